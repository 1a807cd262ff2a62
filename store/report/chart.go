package report

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/store"
)

// Chart is a stacked bar chart over time: Series[i].Values[j] is the
// count of series i in the bucket starting at Start + j×Bucket.
type Chart struct {
	Start  time.Time     `json:"start,omitzero"`
	Bucket time.Duration `json:"bucket_ns"`
	Series []Series      `json:"series"`
}

// Series is one stacked series.
type Series struct {
	Name   string   `json:"name"`
	Total  uint64   `json:"total"`
	Values []uint64 `json:"values"`
}

// Buckets returns the number of bars.
func (c Chart) Buckets() int {
	if len(c.Series) == 0 {
		return 0
	}
	return len(c.Series[0].Values)
}

// bucketWidths are the bar widths a chart picks from: the first that
// covers its span in at most MaxBuckets bars.
var bucketWidths = []time.Duration{
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 48 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 30 * 24 * time.Hour,
}

// maxYears bounds a chart's span.
const maxYears = 100

// layout picks the bucket width and the aligned start covering first..last.
func layout(first, last time.Time) (time.Time, time.Duration, int) {
	if first.IsZero() {
		return time.Time{}, 0, 0
	}
	// A century at most, so that durations do not overflow; older
	// timestamps (a skewed clock) fall in the first bar.
	if floor := last.AddDate(-maxYears, 0, 0); first.Before(floor) {
		first = floor
	}
	for i := 0; ; i++ {
		w := 30 * 24 * time.Hour * time.Duration(i-len(bucketWidths)+2)
		if i < len(bucketWidths) {
			w = bucketWidths[i]
		}
		start := first.Truncate(w)
		n := int(last.Sub(start)/w) + 1
		if n <= MaxBuckets {
			return start.UTC(), w, n
		}
	}
}

// charts builds the traffic chart (stacked per service, the MaxSeries-1
// busiest apart and the rest as "other" when there are more than
// MaxSeries) and the new-endpoints chart (endpoints by first seen), on one
// time axis.
func charts(ws []store.TrafficWindow, eps []infer.EndpointSummary) (Chart, Chart) {
	var first, last time.Time
	see := func(t time.Time) {
		if t.IsZero() {
			return
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	for _, w := range ws {
		see(w.Start)
	}
	for _, e := range eps {
		see(e.FirstSeen)
	}
	start, width, n := layout(first, last)
	traffic := Chart{Start: start, Bucket: width, Series: []Series{}}
	fresh := Chart{Start: start, Bucket: width, Series: []Series{}}
	if n == 0 {
		return traffic, fresh
	}
	bucket := func(t time.Time) int { return min(max(int(t.Sub(start)/width), 0), n-1) }

	totals := map[string]uint64{}
	for _, w := range ws {
		totals[w.Service] += w.Exchanges
	}
	names := make([]string, 0, len(totals))
	for k := range totals {
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(cmp.Compare(totals[b], totals[a]), strings.Compare(a, b)) })
	apart := names
	if len(names) > MaxSeries {
		apart = names[:MaxSeries-1]
	}
	index := map[string]int{}
	for i, name := range apart {
		index[name] = i
		traffic.Series = append(traffic.Series, Series{Name: name, Values: make([]uint64, n)})
	}
	if len(apart) < len(names) {
		traffic.Series = append(traffic.Series, Series{Name: "other", Values: make([]uint64, n)})
	}
	for _, w := range ws {
		i, ok := index[w.Service]
		if !ok {
			i = len(traffic.Series) - 1
		}
		s := &traffic.Series[i]
		s.Values[bucket(w.Start)] += w.Exchanges
		s.Total += w.Exchanges
	}

	s := Series{Name: "new endpoints", Values: make([]uint64, n)}
	for _, e := range eps {
		if !e.FirstSeen.IsZero() {
			s.Values[bucket(e.FirstSeen)]++
			s.Total++
		}
	}
	fresh.Series = append(fresh.Series, s)
	return traffic, fresh
}
