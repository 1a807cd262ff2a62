package realserver

import (
	"context"
	"encoding/base64"
	"fmt"
	"github.com/specter-dev/specter/capture/corpus"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"code.gitea.io/sdk/gitea"
)

// giteaVersion is the Gitea release the case builds (make deps-realserver).
const giteaVersion = "1.27.3"

// giteaFloor is the Gitea case's score when it was recorded.
var giteaFloor = floor{F1: 0.036, Over: 52, PTypes: 0}

// giteaBinary finds the Gitea server: $SPECTER_GITEA, or the one make
// deps-realserver builds into the user cache; it skips when there is none.
// The server's options, templates and public folders sit beside it (a
// build without the bindata tag reads them from its static root).
func giteaBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SPECTER_GITEA"); p != "" {
		return p
	}
	home, _ := os.UserHomeDir()
	p := filepath.Join(home, ".cache", "specter", "gitea-"+giteaVersion, "gitea")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("no Gitea server at %s (make deps-realserver builds it from the Go module proxy)", p)
	}
	return p
}

// startGitea configures and starts a Gitea server on 127.0.0.1:port with
// an SQLite database in a temporary directory and an admin user, and
// returns its base URL.
func startGitea(t *testing.T, bin string, port int, admin, password string) string {
	t.Helper()
	dir := t.TempDir()
	ini := filepath.Join(dir, "app.ini")
	conf := fmt.Sprintf(`APP_NAME = specter-realserver
RUN_MODE = prod
WORK_PATH = %[1]s
I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true

[server]
STATIC_ROOT_PATH = %[3]s
HTTP_ADDR = 127.0.0.1
HTTP_PORT = %[2]d
ROOT_URL = http://127.0.0.1:%[2]d/
DISABLE_SSH = true
START_SSH_SERVER = false
OFFLINE_MODE = true
LFS_START_SERVER = false

[database]
DB_TYPE = sqlite3
PATH = %[1]s/gitea.db

[repository]
ROOT = %[1]s/repos

[security]
INSTALL_LOCK = true
SECRET_KEY = specter-realserver-secret-key-not-a-real-one
INTERNAL_TOKEN = eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJuYmYiOjE3MDAwMDAwMDB9.c3BlY3Rlci1yZWFsc2VydmVyLXRlc3Q
PASSWORD_COMPLEXITY = off
MIN_PASSWORD_LENGTH = 6
ALLOWED_HOST_LIST = loopback

[service]
DISABLE_REGISTRATION = true
REQUIRE_SIGNIN_VIEW = false

[mailer]
ENABLED = false

[cron]
ENABLED = false

[indexer]
ISSUE_INDEXER_TYPE = db

[log]
MODE = console
LEVEL = Warn
`, dir, port, filepath.Dir(bin))
	if err := os.WriteFile(ini, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(bin, append(args, "--config", ini)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GITEA_WORK_DIR="+dir, "HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gitea %v: %v\n%s", args, err, out)
		}
	}
	run("migrate")
	run("admin", "user", "create", "--admin", "--username", admin, "--password", password,
		"--email", admin+"@example.test", "--must-change-password=false")
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "web", "--config", ini)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GITEA_WORK_DIR="+dir, "HOME="+dir)
	logf, err := os.Create(filepath.Join(dir, "web.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("gitea web: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("gitea log:\n%s", b)
		}
	})
	waitHTTP(t, fmt.Sprintf("127.0.0.1:%d", port), 90*time.Second)
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

// TestGitea drives a real Gitea server with Gitea's own Go SDK and scores
// the inferred spec against the spec the server publishes.
func TestGitea(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Gitea server")
	}
	t.Parallel()                 // each case has its own server, port and capture
	corpus.Dir(t, "bench/score") // the scorer: skip before starting anything without it
	bin := giteaBinary(t)
	port := freePort(t)
	const admin, password = "specter-admin", "adm1n-passw0rd"
	base := startGitea(t, bin, port, admin, password)

	// The spec the server publishes, read before the capture starts.
	resp, err := http.Get(base + "/swagger.v1.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /swagger.v1.json: %s", resp.Status)
	}
	ops, err := loadSpec(doc, "/api/v1")
	if err != nil {
		t.Fatal(err)
	}

	pcap, stop := tcpdump(t, port)
	rec := &recorder{next: http.DefaultTransport}
	driveGitea(t, base, admin, password, rec)
	stop()

	truth := filepath.Join(t.TempDir(), "truth.json")
	unrouted, err := buildTruth(truth, fmt.Sprintf("127.0.0.1:%d", port), ops, rec.sent())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Gitea: %d requests sent, %d not routed by the published spec: %v", len(rec.sent()), len(unrouted), firstN(unrouted, 10))
	r, table := exportAndScore(t, pcap, truth)
	t.Logf("\n%s", table)
	checkFloor(t, "gitea", r, giteaFloor)
}

func firstN[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// driveGitea exercises a broad part of the Gitea API through the SDK the
// way its users do: an admin creates users and organizations, users
// create repositories, files, branches, issues, labels, milestones, pull
// requests, releases, webhooks and keys, and read them back. Values are
// varied (seeded) so that identifiers must be templated; some lookups
// miss on purpose, as real clients' do.
func driveGitea(t *testing.T, base, admin, password string, rec *recorder) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 25))
	hc := &http.Client{Transport: rec, Timeout: 60 * time.Second}
	root, err := gitea.NewClient(base, gitea.SetHTTPClient(hc), gitea.SetGiteaVersion(giteaVersion), gitea.SetBasicAuth(admin, password))
	if err != nil {
		t.Fatalf("gitea client: %v", err)
	}
	root.GetMyUserInfo()
	root.ServerVersion()

	users := []string{"alice", "bob-dev", "carol.w", "dmitri", "eve-ops", "fatima", "grace-h", "hiro"}
	var clients []*gitea.Client
	for i, u := range users {
		root.AdminCreateUser(gitea.CreateUserOption{Username: u, Email: u + "@example.test", Password: "user-passw0rd-" + u,
			MustChangePassword: gitea.OptionalBool(false), FullName: strings.ToUpper(u[:1]) + u[1:]})
		c, err := gitea.NewClient(base, gitea.SetHTTPClient(hc), gitea.SetGiteaVersion(giteaVersion), gitea.SetBasicAuth(u, "user-passw0rd-"+u))
		if err != nil {
			t.Fatalf("client %s: %v", u, err)
		}
		clients = append(clients, c)
		if i%3 == 0 {
			c.CreateAccessToken(gitea.CreateAccessTokenOption{Name: "ci-" + u, Scopes: []gitea.AccessTokenScope{gitea.AccessTokenScopeAll}})
			c.ListAccessTokens(gitea.ListAccessTokensOptions{})
		}
	}
	root.AdminListUsers(gitea.AdminListUsersOptions{})
	orgs := []string{"platform", "data-eng", "payments-team"}
	for i, o := range orgs {
		c := clients[i]
		c.CreateOrg(gitea.CreateOrgOption{Name: o, Visibility: gitea.VisibleTypePublic, Description: "the " + o + " org"})
		c.GetOrg(o)
		team, _, _ := c.CreateTeam(o, gitea.CreateTeamOption{Name: "reviewers-" + fmt.Sprint(i), Permission: gitea.AccessModeWrite,
			Units: []gitea.RepoUnitType{gitea.RepoUnitCode, gitea.RepoUnitIssues, gitea.RepoUnitPulls}})
		if team != nil {
			c.GetTeam(team.ID)
			c.AddTeamMember(team.ID, users[(i+3)%len(users)])
			c.ListTeamMembers(team.ID, gitea.ListTeamMembersOptions{})
		}
		c.ListOrgTeams(o, gitea.ListTeamsOptions{})
	}

	type repoRef struct {
		c           *gitea.Client
		owner, name string
	}
	var repos []repoRef
	names := []string{"billing-service", "docs", "infra-terraform", "web-ui", "ml-pipeline", "auth-gateway", "cli", "sdk-go", "dotfiles", "notes"}
	for i, u := range users {
		c := clients[i]
		for j := 0; j < 1+rng.IntN(3); j++ {
			name := names[(i*3+j)%len(names)]
			if _, _, err := c.CreateRepo(gitea.CreateRepoOption{Name: name, AutoInit: true, Description: "repo " + name,
				DefaultBranch: "main", Readme: "Default"}); err == nil {
				repos = append(repos, repoRef{c, u, name})
			}
		}
		c.ListMyRepos(gitea.ListReposOptions{})
		root.GetUserInfo(u)
		root.ListUserRepos(u, gitea.ListReposOptions{})
	}
	for i, o := range orgs {
		c := clients[i]
		name := []string{"ledger", "etl-jobs", "checkout-api"}[i]
		if _, _, err := c.CreateOrgRepo(o, gitea.CreateRepoOption{Name: name, AutoInit: true, DefaultBranch: "main"}); err == nil {
			repos = append(repos, repoRef{c, o, name})
		}
		c.ListOrgRepos(o, gitea.ListOrgReposOptions{})
	}

	files := []string{"src/main.go", "README.ops.md", "config/app.yaml", "docs/guide.md", "scripts/deploy.sh"}
	for ri, r := range repos {
		c := r.c
		c.GetRepo(r.owner, r.name)
		c.GetRepoLanguages(r.owner, r.name)
		c.ListRepoBranches(r.owner, r.name, gitea.ListRepoBranchesOptions{})
		c.GetRepoBranch(r.owner, r.name, "main")
		for k := 0; k < 1+rng.IntN(3); k++ {
			f := files[(ri+k)%len(files)]
			c.CreateFile(r.owner, r.name, f, gitea.CreateFileOptions{Content: base64.StdEncoding.EncodeToString([]byte("content of " + f)),
				FileOptions: gitea.FileOptions{Message: "add " + f, BranchName: "main"}})
			c.GetContents(r.owner, r.name, "main", f)
			c.GetFile(r.owner, r.name, "main", f)
		}
		c.ListContents(r.owner, r.name, "main", "")
		branch := fmt.Sprintf("feature-%d", 100+ri)
		c.CreateBranch(r.owner, r.name, gitea.CreateBranchOption{BranchName: branch, OldBranchName: "main"})
		c.CreateFile(r.owner, r.name, "CHANGELOG.md", gitea.CreateFileOptions{Content: base64.StdEncoding.EncodeToString([]byte("v1")),
			FileOptions: gitea.FileOptions{Message: "changelog", BranchName: branch}})
		pr, _, _ := c.CreatePullRequest(r.owner, r.name, gitea.CreatePullRequestOption{Head: branch, Base: "main", Title: "Add changelog " + branch})
		if pr != nil {
			c.GetPullRequest(r.owner, r.name, pr.Index)
			c.ListPullRequestFiles(r.owner, r.name, pr.Index, gitea.ListPullRequestFilesOptions{})
			c.ListPullRequestCommits(r.owner, r.name, pr.Index, gitea.ListPullRequestCommitsOptions{})
			if ri%2 == 0 {
				c.MergePullRequest(r.owner, r.name, pr.Index, gitea.MergePullRequestOption{Style: gitea.MergeStyleMerge})
				c.IsPullRequestMerged(r.owner, r.name, pr.Index)
			}
		}
		c.ListRepoPullRequests(r.owner, r.name, gitea.ListPullRequestsOptions{})

		var labels []int64
		for _, l := range []string{"bug", "enhancement", "needs-triage"} {
			if lab, _, err := c.CreateLabel(r.owner, r.name, gitea.CreateLabelOption{Name: l, Color: "#e11d21"}); err == nil {
				labels = append(labels, lab.ID)
			}
		}
		c.ListRepoLabels(r.owner, r.name, gitea.ListLabelsOptions{})
		ms, _, _ := c.CreateMilestone(r.owner, r.name, gitea.CreateMilestoneOption{Title: fmt.Sprintf("v%d.%d", 1+ri%3, ri)})
		if ms != nil {
			c.GetMilestone(r.owner, r.name, ms.ID)
		}
		c.ListRepoMilestones(r.owner, r.name, gitea.ListMilestoneOption{})
		for k := 0; k < 2+rng.IntN(5); k++ {
			is, _, err := c.CreateIssue(r.owner, r.name, gitea.CreateIssueOption{Title: fmt.Sprintf("Issue %d in %s", k, r.name), Body: "steps to reproduce"})
			if err != nil {
				continue
			}
			c.GetIssue(r.owner, r.name, is.Index)
			if len(labels) > 0 {
				c.AddIssueLabels(r.owner, r.name, is.Index, gitea.IssueLabelsOption{Labels: labels[:1+rng.IntN(len(labels))]})
				c.GetIssueLabels(r.owner, r.name, is.Index, gitea.ListLabelsOptions{})
			}
			for n := 0; n < rng.IntN(4); n++ {
				if cm, _, err := c.CreateIssueComment(r.owner, r.name, is.Index, gitea.CreateIssueCommentOption{Body: "comment " + fmt.Sprint(n)}); err == nil {
					c.GetIssueComment(r.owner, r.name, cm.ID)
					if n == 1 {
						c.EditIssueComment(r.owner, r.name, cm.ID, gitea.EditIssueCommentOption{Body: "edited"})
					}
				}
			}
			c.ListIssueComments(r.owner, r.name, is.Index, gitea.ListIssueCommentOptions{})
			if k%3 == 2 {
				closed := gitea.StateClosed
				c.EditIssue(r.owner, r.name, is.Index, gitea.EditIssueOption{State: &closed})
			}
		}
		c.ListRepoIssues(r.owner, r.name, gitea.ListIssueOption{})
		if ri%2 == 1 {
			tag := fmt.Sprintf("v0.%d.0", ri)
			if rel, _, err := c.CreateRelease(r.owner, r.name, gitea.CreateReleaseOption{TagName: tag, Title: "Release " + tag, Target: "main"}); err == nil {
				c.GetRelease(r.owner, r.name, rel.ID)
				c.GetReleaseByTag(r.owner, r.name, tag)
			}
			c.ListReleases(r.owner, r.name, gitea.ListReleasesOptions{})
			c.GetLatestRelease(r.owner, r.name)
		}
		if ri%3 == 0 {
			if h, _, err := c.CreateRepoHook(r.owner, r.name, gitea.CreateHookOption{Type: gitea.HookTypeGitea,
				Config: map[string]string{"url": "http://127.0.0.1:9/hook", "content_type": "json"}, Events: []string{"push"}, Active: true}); err == nil {
				c.GetRepoHook(r.owner, r.name, h.ID)
			}
			c.ListRepoHooks(r.owner, r.name, gitea.ListHooksOptions{})
		}
		// Lookups that miss, as real clients' do.
		if ri%4 == 0 {
			c.GetIssue(r.owner, r.name, 9000+int64(ri))
			c.GetRepoBranch(r.owner, r.name, "no-such-branch")
		}
	}
	for i, u := range users {
		c := clients[i]
		other := repos[(i*5)%len(repos)]
		c.StarRepo(other.owner, other.name)
		c.IsRepoStarring(other.owner, other.name)
		c.GetMyStarredRepos()
		root.GetUserInfo(u)
		c.ListMyOrgs(gitea.ListOrgsOptions{})
		c.ListMyFollowing(gitea.ListFollowingOptions{})
		if i > 0 {
			c.Follow(users[i-1])
		}
		c.SearchRepos(gitea.SearchRepoOptions{Keyword: names[i%len(names)][:3]})
	}
	root.GetUserInfo("nobody-here")
	root.GetRepo("nobody-here", "nothing")
}
