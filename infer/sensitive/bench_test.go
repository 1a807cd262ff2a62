package sensitive

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
)

func benchDoc() []byte {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := 0; i < 200; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"uuid":"8c7b1a52-6f37-4c38-9d6a-0e1f2a3b4c5d","name":"user number %d","email":"user%d@example.com",`+
			`"phone":"+1 415 555 %04d","created_at":"2024-01-02T03:04:05Z","active":true,"score":%d.5,"tags":["a","b"],`+
			`"bio":"lorem ipsum dolor sit amet, consectetur adipiscing elit","order_id":"4111111111111112"}`, i, i, i, i, i)
	}
	b.WriteString(`],"total":200}`)
	return []byte(b.String())
}

func BenchmarkRedactJSON(b *testing.B) {
	doc := benchDoc()
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	cpu0 := cpuSeconds()
	for i := 0; i < b.N; i++ {
		RedactJSON(doc, 1<<20)
	}
	if cpu := cpuSeconds() - cpu0; cpu > 0 {
		// Throughput per CPU second: steadier than wall time on a shared
		// machine.
		b.ReportMetric(float64(len(doc))*float64(b.N)/cpu/1e6, "MB/cpu-s")
	}
}

// cpuSeconds returns the CPU time (user and system) the process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func BenchmarkClassify(b *testing.B) {
	vals := [][]byte{[]byte("user12@example.com"), []byte("+1 415 555 2671"), []byte("4111111111111112"),
		[]byte("lorem ipsum dolor sit amet"), []byte("8c7b1a52-6f37-4c38-9d6a-0e1f2a3b4c5d"), []byte("active")}
	name := []byte("field")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, v := range vals {
			ClassifyBytes(name, v)
		}
	}
	b.ReportMetric(float64(len(vals))*float64(b.N)/b.Elapsed().Seconds(), "values/s")
}
