package template

import "testing"

// monitoringMetrics are rare metric names after metrics, each with a
// route word below: a parameter by population.
var monitoringMetrics = cat(
	seq("GET /monitoring/metrics/%s/breakdown", "current-average-bitrate", "exits-before-start", "startup-failure-rate", "current-viewers"),
	seq("GET /monitoring/metrics/%s/timeseries", "rebuffering-rate", "exits-before-start", "playback-score"),
)

func TestSharedValues(t *testing.T) {
	endpointTable{
		{
			name: "words valued after the same route word elsewhere are values here",
			in: cat(monitoringMetrics,
				[]string{"GET /realtime/metrics/exits-before-start/breakdown x3", "GET /realtime/metrics/current-viewers/timeseries x4"}),
			want: []string{
				"GET /monitoring/metrics/{metricName:string}/breakdown",
				"GET /monitoring/metrics/{metricName:string}/timeseries",
				"GET /realtime/metrics/{metricName:string}/breakdown",
				"GET /realtime/metrics/{metricName:string}/timeseries",
			},
		},
		{
			name: "one shared word is not enough",
			in: cat(monitoringMetrics,
				[]string{"GET /realtime/metrics/exits-before-start/breakdown x3", "GET /realtime/metrics/summary/timeseries x4"}),
			want: []string{
				"GET /monitoring/metrics/{metricName:string}/breakdown",
				"GET /monitoring/metrics/{metricName:string}/timeseries",
				"GET /realtime/metrics/exits-before-start/breakdown",
				"GET /realtime/metrics/summary/timeseries",
			},
		},
		{
			name: "shared words under another route word stay literal",
			in: cat(monitoringMetrics,
				[]string{"GET /realtime/reports/exits-before-start/breakdown x3", "GET /realtime/reports/current-viewers/timeseries x4"}),
			want: []string{
				"GET /monitoring/metrics/{metricName:string}/breakdown",
				"GET /monitoring/metrics/{metricName:string}/timeseries",
				"GET /realtime/reports/current-viewers/timeseries",
				"GET /realtime/reports/exits-before-start/breakdown",
			},
		},
	}.run(t)
}

// TestSharedValuesExplained: Explain decides as Endpoints does (both
// passes) and names the rule.
func TestSharedValuesExplained(t *testing.T) {
	tr := build(t, cat(monitoringMetrics,
		[]string{"GET /realtime/metrics/exits-before-start/breakdown x3", "GET /realtime/metrics/current-viewers/timeseries x4"}))
	tmpl, segs := tr.Explain(Options{}, "/realtime/metrics/exits-before-start/breakdown")
	if want := "/realtime/metrics/{metricName}/breakdown"; tmpl != want {
		t.Fatalf("template %q, want %q", tmpl, want)
	}
	if len(segs) != 4 || segs[2].Rule != RuleShared {
		t.Errorf("segments %+v: want the third decided by %s", segs, RuleShared)
	}
}
