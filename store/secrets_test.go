package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
)

// plantedSecrets are generated secrets of the shapes that leaked into path
// evidence and examples: long random path tokens (password reset and
// magic links), keys inside free text, and card verification codes.
type plantedSecrets struct {
	resetHex, magic, invite, verifyUUID, code string   // path and query tokens
	device, pref, formNote                    string   // header, cookie and form values
	stripe, aws, jwt, pemBody, github         string   // inside free text
	cvvs                                      []string // card verification codes, as strings
	cvvNum                                    int      // and as a number
}

func newPlanted(r *rand.Rand) plantedSecrets {
	const b62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	const b64u = b62 + "-_"
	const b32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	gen := func(alphabet string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	hex := func(n int) string { return gen("0123456789abcdef", n) }
	p := plantedSecrets{
		resetHex:   hex(64),
		magic:      gen(b64u, 43),
		invite:     gen(b62, 32),
		verifyUUID: hex(8) + "-" + hex(4) + "-4" + hex(3) + "-a" + hex(3) + "-" + hex(12),
		code:       gen(b62, 28), // short enough to be an enum value
		stripe:     "sk_live_" + gen(b62, 24),
		aws:        "AKIA" + gen(b32, 16),
		jwt:        "eyJhbGciOiJIUzI1NiJ9." + gen(b64u, 30) + "." + gen(b64u, 43),
		pemBody:    gen(b62, 64),
		github:     "ghp_" + gen(b62, 36),
		cvvNum:     1000 + r.IntN(9000),
		device:     gen(b62, 30),
		pref:       gen(b64u, 24),
		formNote:   "glpat-" + gen(b62, 20) + "7",
	}
	for range 5 {
		p.cvvs = append(p.cvvs, fmt.Sprint(1000+r.IntN(9000)))
	}
	return p
}

func (p plantedSecrets) long() []string {
	return []string{p.resetHex, p.magic, p.invite, p.verifyUUID, p.code, p.stripe, p.aws, p.jwt, p.pemBody, p.github,
		p.device, p.pref, p.formNote}
}

// exchanges is traffic carrying the planted secrets, next to ordinary ids
// so that the templates have something to decide.
func (p plantedSecrets) exchanges(n int) []*reassembly.Exchange {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const host = "acct.example.test"
	pem := "-----BEGIN RSA PRIVATE KEY-----\n" + p.pemBody + "\n-----END RSA PRIVATE KEY-----"
	var xs []*reassembly.Exchange
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Second)
		switch i % 9 {
		case 0:
			xs = append(xs, exchange(at, "POST", host, "/password/reset/"+p.resetHex, "", `{"password":"n3w-Passw0rd"}`, 204, ""))
		case 1:
			xs = append(xs, exchange(at, "GET", host, "/auth/magic-link/"+p.magic, "", "", 302, ""))
		case 2:
			xs = append(xs, exchange(at, "GET", host, "/invites/"+p.invite+"/accept", "", "", 200, `{"ok":true}`))
		case 3:
			xs = append(xs, exchange(at, "GET", host, "/email/verify/"+p.verifyUUID, "", "", 200, `{"verified":true}`))
		case 4:
			if i%2 == 0 {
				xs = append(xs, exchange(at, "GET", host, "/oauth/callback?code="+p.code+"&state=xyz&"+p.magic+"=1", "", "", 302, ""))
			} else {
				// Secrets in JSON values: a token alone, a link holding one.
				xs = append(xs, exchange(at, "POST", host, "/password/forgot", "", `{"email_hint":"a"}`, 200,
					fmt.Sprintf(`{"code":%q,"link":"https://acct.example.test/password/reset/%s?src=mail"}`, p.code, p.resetHex)))
			}
		case 5:
			body := fmt.Sprintf(`{"subject":"help","note":"my key is %s, can you rotate it?","aws":"creds: %s and jwt=%s ok","key":%q,"gh":"token %s in a sentence"}`,
				p.stripe, p.aws, p.jwt, "see "+pem+" attached", p.github)
			xs = append(xs, exchange(at, "POST", host, fmt.Sprintf("/tickets/%d", 100+i), "", body, 201, `{"id":1}`))
		case 6:
			body := fmt.Sprintf(`{"card_number":"4111111111111111","cvv":%q,"cvc":%q,"cvv2":%q,"security_code":%q,"card_verification":%q}`,
				p.cvvs[0], p.cvvs[1], p.cvvs[2], p.cvvs[3], p.cvvs[4])
			xs = append(xs, exchange(at, "POST", host, "/payments", "", body, 201, `{"id":2}`))
		case 7:
			xs = append(xs, exchange(at, "POST", host, "/cards", "", fmt.Sprintf(`{"cvv":%d,"cvc":%d}`, p.cvvNum, p.cvvNum), 201,
				fmt.Sprintf(`{"sessions":{%q:{"ip":"10.0.0.1"}}}`, p.invite))) // a token as a property name
		default:
			x := exchange(at, "GET", host, fmt.Sprintf("/users/%d", 1000+i), "X-Device: "+p.device+"\nCookie: prefs="+p.pref, "", 200, `{"name":"x"}`)
			if i%2 == 0 {
				x = exchange(at, "POST", host, "/feedback", "", "", 204, "")
				x.Request.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				x.Request.Body = message.NewBody([]byte("text="+url.QueryEscape("here is my token "+p.formNote+" thanks")), 0)
			}
			xs = append(xs, x)
		}
	}
	return xs
}

// dbStrings returns every text value of every column of every table of
// the database, and the strings and numbers inside those that are JSON
// (recursively: examples are JSON documents inside the JSON state).
func dbStrings(t *testing.T, db *sql.DB) (cells, strs []string, nums []float64) {
	t.Helper()
	tables, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		if err := tables.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	tables.Close()
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		switch x := v.(type) {
		case string:
			strs = append(strs, x)
			var inner any
			if (strings.HasPrefix(x, "{") || strings.HasPrefix(x, "[")) && json.Unmarshal([]byte(x), &inner) == nil {
				walk(inner, depth+1)
			}
		case float64:
			if depth > 0 {
				nums = append(nums, x)
			}
		case []any:
			for _, e := range x {
				walk(e, depth)
			}
		case map[string]any:
			for k, e := range x {
				walk(k, depth)
				walk(e, depth)
			}
		}
	}
	for _, n := range names {
		rows, err := db.Query(fmt.Sprintf(`SELECT * FROM %q`, n))
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if !v.Valid {
					continue
				}
				cells = append(cells, v.String)
				var doc any
				if json.Unmarshal([]byte(v.String), &doc) == nil {
					walk(doc, 0)
				}
			}
		}
		rows.Close()
	}
	return cells, strs, nums
}

func TestNoSecretShapedValues(t *testing.T) {
	ctx := context.Background()
	p := newPlanted(rand.New(rand.NewPCG(12, 34)))
	path := filepath.Join(t.TempDir(), "s.db")
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ingest(t, db, 50, p.exchanges(450))
	// Templating is as good as before: the tokens are parameters.
	eps, err := db.Endpoints(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range eps {
		got[e.Method+" "+e.Template] = true
	}
	for _, want := range []string{"POST /password/reset/{", "GET /auth/magic-link/{", "GET /invites/{", "GET /email/verify/{", "GET /oauth/callback", "GET /users/{"} {
		found := false
		for k := range got {
			found = found || strings.HasPrefix(k, want)
		}
		if !found {
			t.Errorf("no endpoint %q... in %v", want, got)
		}
	}
	db.Close()

	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	cells, strs, nums := dbStrings(t, raw)
	if len(cells) == 0 {
		t.Fatal("nothing read from the database")
	}
	all := strings.Join(cells, "\n") + "\n" + strings.Join(strs, "\n")
	for _, s := range p.long() {
		if strings.Contains(all, s) {
			i := strings.Index(all, s)
			t.Errorf("the database holds %q: ...%s...", s, all[max(0, i-120):min(len(all), i+len(s)+40)])
		}
	}
	for _, s := range strs {
		for _, c := range p.cvvs {
			if s == c {
				t.Errorf("the database holds the card verification code %q", c)
			}
		}
		if s == fmt.Sprint(p.cvvNum) {
			t.Errorf("the database holds the card verification code %d as a string", p.cvvNum)
		}
	}
	for _, n := range nums {
		if n == float64(p.cvvNum) {
			t.Errorf("the database holds the card verification code %d", p.cvvNum)
		}
	}
}
