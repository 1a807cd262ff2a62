package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/specter-dev/specter/reassembly"
)

// TestLaterTrafficRevisesTemplates: paths of two teams seen in run A are
// literal endpoints (two words could be fixed path words); run B brings ten
// more teams, and the stored evidence of A lets the template absorb it:
// A's literal rows are gone and their requests count under the template.
func TestLaterTrafficRevisesTemplates(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t, "r.db")
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var a, b []*reassembly.Exchange
	names := []string{"falcon", "otter", "badger", "heron", "lynx", "marten", "osprey", "puffin", "raven", "stoat", "vole", "weasel"}
	get := func(at time.Time, team string, member int) *reassembly.Exchange {
		return exchange(at, "GET", "api.example.test", fmt.Sprintf("/teams/%s/members/%d", team, member), "", "", 200, `{"ok":true}`)
	}
	// A: two teams, too few to tell names from fixed path words.
	for i := 0; i < 6; i++ {
		a = append(a, get(t0.Add(time.Duration(i)*time.Second), names[i%2], 7+i))
	}
	// B: ten more teams.
	for i := 0; i < 100; i++ {
		b = append(b, get(t0.Add(time.Hour+time.Duration(i)*time.Second), names[2+i%10], 100+i))
	}
	ingest(t, db, 100, a)
	eps, err := db.Endpoints(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 2 || !strings.HasPrefix(eps[0].Template, "/teams/falcon/members/{") || !strings.HasPrefix(eps[1].Template, "/teams/otter/members/{") {
		t.Fatalf("after A, want two literal teams: %s", mustJSON(t, eps))
	}
	ingest(t, db, 100, b)
	eps, err = db.Endpoints(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 1 || !strings.HasPrefix(eps[0].Template, "/teams/{") || strings.Count(eps[0].Template, "{") != 2 || eps[0].Count != 106 {
		t.Fatalf("after B, want one template covering A's 6 and B's 100 requests: %s", mustJSON(t, eps))
	}
	if !eps[0].FirstSeen.Equal(t0) {
		t.Errorf("first seen %v, want A's %v", eps[0].FirstSeen, t0)
	}
	t.Logf("after B: %s %s (%d)", eps[0].Method, eps[0].Template, eps[0].Count)
}
