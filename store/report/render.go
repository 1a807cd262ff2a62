package report

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"
)

var (
	//go:embed report.html
	pageText string
	//go:embed report.css
	css string
	//go:embed report.js
	script string
)

// csp is the page's Content Security Policy: nothing is fetched (no
// network at view time), styles are the inline ones, and the one script
// that runs is the embedded one (by hash), so that markup smuggled in from
// traffic could not run even if escaping failed.
var csp = func() string {
	sum := sha256.Sum256([]byte(script))
	return "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-" +
		base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; form-action 'none'"
}()

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"join": strings.Join,
	"int":  func(n uint64) int { return int(min(n, 1<<62)) },
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + many
	},
	"depth": func(d int) int { return min(d, 9) }, // the indentation classes d0..d9
	"inc":   func(d int) int { return d + 1 },
	"ms":    func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + " ms" },
	"total": func(cs []Count) int {
		n := 0
		for _, c := range cs {
			n += c.Count
		}
		return n
	},
}).Parse(pageText))

// Options steer Render.
type Options struct {
	// Version is the specter version shown in the header; "" for none.
	Version string
	// Refresh, when positive, makes the page reload itself this often (the
	// live view of Handler).
	Refresh time.Duration
	// HaveSpecs says specs were declared, so that "no findings" is not
	// mistaken for "not checked".
	HaveSpecs bool
}

// Render writes the report page of d.
func Render(w io.Writer, d *Data, opts Options) error {
	v := struct {
		D                                                   *Data
		CSP                                                 string
		CSS                                                 template.CSS
		Script                                              template.JS
		Version                                             string
		Refresh                                             int
		Live, HaveSpecs                                     bool
		Traffic, NewEndpoints                               svgChart
		MaxTreeRows, MaxFindings, MaxMatrixRows, MaxDetails int
		MaxOperationRows, MaxDetailOperations               int
	}{
		D: d, CSP: csp, CSS: template.CSS(css), Script: template.JS(script), Version: opts.Version,
		Refresh: int(opts.Refresh.Round(time.Second) / time.Second), Live: opts.Refresh > 0, HaveSpecs: opts.HaveSpecs,
		Traffic:      drawChart(d.Traffic, "exchanges per "+span(d.Traffic.Bucket)+" by service"),
		NewEndpoints: drawChart(d.NewEndpoints, "endpoints first seen per "+span(d.NewEndpoints.Bucket)),
		MaxTreeRows:  MaxTreeRows, MaxFindings: MaxFindings, MaxMatrixRows: MaxMatrixRows, MaxDetails: MaxDetails,
		MaxOperationRows: MaxOperationRows, MaxDetailOperations: MaxDetailOperations,
	}
	if err := page.Execute(w, v); err != nil {
		return fmt.Errorf("report: rendering: %w", err)
	}
	return nil
}

// span names a bucket width ("5 min", "1 h", "2 d").
func span(d time.Duration) string {
	switch {
	case d <= 0:
		return "bucket"
	case d%(24*time.Hour) == 0:
		return strconv.Itoa(int(d/(24*time.Hour))) + " d"
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + " h"
	}
	return strconv.Itoa(int(d/time.Minute)) + " min"
}

// svgChart is a Chart laid out for the SVG template; coordinates are
// formatted here so that output is byte-stable.
type svgChart struct {
	W, H   int
	Label  string
	Bars   []svgBar
	Grid   []svgGrid
	Ticks  []svgText
	Legend []svgLegend
}

type svgBar struct{ X, Y, W, H, Class, Title string }
type svgGrid struct{ X0, X1, X2, Y, TY, Label string }
type svgText struct{ X, Y, Label string }
type svgLegend struct {
	Class, Name string
	Total       uint64
}

// Chart geometry: plot area inside the margins.
const (
	chartW, chartH            = 960, 220
	marginL, marginR, marginB = 56, 8, 22
	marginT                   = 8
)

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

func drawChart(c Chart, label string) svgChart {
	out := svgChart{W: chartW, H: chartH, Label: label}
	n := c.Buckets()
	if n == 0 {
		return out
	}
	var peak uint64
	for j := 0; j < n; j++ {
		var sum uint64
		for _, s := range c.Series {
			sum += s.Values[j]
		}
		peak = max(peak, sum)
	}
	if peak == 0 {
		return out
	}
	top := niceCeil(peak)
	plotW := float64(chartW - marginL - marginR)
	plotH := float64(chartH - marginT - marginB)
	slot := plotW / float64(n)
	barW := max(slot*0.8, 1)
	for g := 0; g <= 4; g++ {
		v := top * uint64(g) / 4
		y := float64(marginT) + plotH - plotH*float64(v)/float64(top)
		out.Grid = append(out.Grid, svgGrid{X0: num(marginL - 4), X1: num(marginL), X2: num(chartW - marginR), Y: num(y), TY: num(y + 4), Label: strconv.FormatUint(v, 10)})
	}
	for j := 0; j < n; j++ {
		at := c.Start.Add(time.Duration(j) * c.Bucket)
		x := float64(marginL) + slot*float64(j) + (slot-barW)/2
		base := float64(marginT) + plotH
		for i, s := range c.Series {
			v := s.Values[j]
			if v == 0 {
				continue
			}
			h := plotH * float64(v) / float64(top)
			base -= h
			out.Bars = append(out.Bars, svgBar{X: num(x), Y: num(base), W: num(barW), H: num(h), Class: "c" + strconv.Itoa(i%MaxSeries),
				Title: fmt.Sprintf("%s %s: %d", at.UTC().Format("2006-01-02 15:04Z"), s.Name, v)})
		}
	}
	// About six time labels.
	step := max(n/6, 1)
	for j := 0; j < n; j += step {
		at := c.Start.Add(time.Duration(j) * c.Bucket).UTC()
		f := "01-02 15:04"
		if c.Bucket >= 24*time.Hour {
			f = "2006-01-02"
		}
		out.Ticks = append(out.Ticks, svgText{X: num(float64(marginL) + slot*(float64(j)+0.5)), Y: num(chartH - 6), Label: at.Format(f)})
	}
	for i, s := range c.Series {
		out.Legend = append(out.Legend, svgLegend{Class: "l" + strconv.Itoa(i%MaxSeries), Name: s.Name, Total: s.Total})
	}
	return out
}

// niceCeil is the chart's top: four grid steps of 1, 2 or 5 times a
// power of ten, the smallest reaching v.
func niceCeil(v uint64) uint64 {
	if v > 1<<60 {
		return v // corrupt counts: no rounding that could overflow
	}
	for p := uint64(1); ; p *= 10 {
		for _, m := range []uint64{1, 2, 5} {
			if step := m * p; 4*step >= v {
				return 4 * step
			}
		}
	}
}
