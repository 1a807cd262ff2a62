package main

import (
	"strings"
	"testing"

	"github.com/specter-dev/specter/store/fleet"
)

// TestAggregateLeaseMetrics reads the lease's metrics as an SRE would:
// active or standby, and the counts of leases acquired and lost.
func TestAggregateLeaseMetrics(t *testing.T) {
	for _, tc := range []struct {
		name           string
		active         bool
		acquired, lost uint64
		want           []string
	}{
		{"standby", false, 0, 0, []string{"specter_aggregate_active 0", "specter_aggregate_leases_acquired_total 0", "specter_aggregate_leases_lost_total 0"}},
		{"active after a loss", true, 2, 1, []string{"specter_aggregate_active 1", "specter_aggregate_leases_acquired_total 2", "specter_aggregate_leases_lost_total 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var st fleet.AggregatorStats
			st.Active.Store(tc.active)
			st.LeasesAcquired.Store(tc.acquired)
			st.LeasesLost.Store(tc.lost)
			addr, stop, err := serveAggregateMetrics("127.0.0.1:0", &st)
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			b := httpGet(t, "http://"+addr+"/metrics")
			for _, w := range tc.want {
				if !strings.Contains(b, w+"\n") {
					t.Errorf("metrics lack %q:\n%s", w, b)
				}
			}
		})
	}
}
