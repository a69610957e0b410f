package server

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// docs/operations.md names real metrics with their real labels: the table
// lists each metric's type and exactly its labels, and every alert
// selects and aggregates by labels the metric has, with values the server
// uses.
func TestOperationsDocMetricLabels(t *testing.T) {
	doc, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	// A server that has produced every metric.
	e := newLoginEnv(t)
	e.token(nil) // an error
	e.tokens(e.exchange(e.code(e.browser(), spaRequest()), verifierForSPA))
	e.keys.set(func(f *fakeKeys) { f.next = testNow.Add(600e9) })
	mfs, err := e.s.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	families := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		families[mf.GetName()] = mf
	}
	labelsOf := func(name string) ([]string, bool) {
		mf := families[name]
		if mf == nil {
			return nil, false
		}
		var out []string
		for _, lp := range mf.GetMetric()[0].GetLabel() {
			out = append(out, lp.GetName())
		}
		return out, true
	}

	// The table: | `name` | type | `label`, `label` | meaning |
	rows := regexp.MustCompile("(?m)^\\| `(signet_[a-z_]+)` \\| (\\w+) \\|([^|]*)\\|").FindAllStringSubmatch(string(doc), -1)
	if len(rows) < 9 {
		t.Fatalf("found %d metric rows in the table", len(rows))
	}
	for _, r := range rows {
		got, ok := labelsOf(r[1])
		if !ok {
			t.Errorf("the table names %s, which the server does not export", r[1])
			continue
		}
		if typ := strings.ToLower(families[r[1]].GetType().String()); typ != r[2] {
			t.Errorf("the table says %s is a %s; it is a %s", r[1], r[2], typ)
		}
		var want []string
		for _, m := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(r[3], -1) {
			want = append(want, m[1])
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("the table gives %s the labels %v; it has %v", r[1], want, got)
		}
	}

	// The alerts: selectors name real labels and values, aggregations
	// real labels.
	values := sourceStrings(t, "*.go", "../key/*.go", "../keymanager/*.go")
	var alerts string
	for _, b := range regexp.MustCompile("(?s)```\n(groups:.*?)```").FindAllStringSubmatch(string(doc), -1) {
		alerts += b[1]
	}
	if !strings.Contains(alerts, "alert: ") {
		t.Fatal("no alert rules found")
	}
	for _, line := range strings.Split(alerts, "\n") {
		line, ok := strings.CutPrefix(strings.TrimSpace(line), "expr: ")
		if !ok {
			continue
		}
		var metricLabels []string
		for _, m := range regexp.MustCompile(`(signet_[a-z_]+)(\{[^}]*\})?`).FindAllStringSubmatch(line, -1) {
			name := m[1]
			extra := []string{"instance", "job"}
			if base, ok := strings.CutSuffix(name, "_bucket"); ok {
				name, extra = base, append(extra, "le")
			}
			labels, ok := labelsOf(name)
			if !ok {
				t.Errorf("alert %q: %s is not exported", line, m[1])
				continue
			}
			labels = append(labels, extra...)
			metricLabels = append(metricLabels, labels...)
			for _, sel := range regexp.MustCompile(`([a-z_]+)=~?"([^"]*)"`).FindAllStringSubmatch(m[2], -1) {
				if !slices.Contains(labels, sel[1]) {
					t.Errorf("alert %q selects %s by %s, which it does not have (%v)", line, m[1], sel[1], labels)
				}
				if sel[1] == "route" && !slices.Contains(slices.Collect(maps.Values(e.s.routes)), sel[2]) {
					t.Errorf("alert %q selects route %q, which is not a route (%v)", line, sel[2], slices.Sorted(maps.Values(e.s.routes)))
				}
				if !values[sel[2]] {
					t.Errorf("alert %q selects %s=%q, a value the server never uses", line, sel[1], sel[2])
				}
			}
		}
		for _, by := range regexp.MustCompile(`\bby \(([^)]*)\)`).FindAllStringSubmatch(line, -1) {
			for _, l := range strings.Split(by[1], ",") {
				if l = strings.TrimSpace(l); !slices.Contains(metricLabels, l) {
					t.Errorf("alert %q aggregates by %s, which its metrics do not have", line, l)
				}
			}
		}
	}
}

// sourceStrings returns the double-quoted string literals of the Go
// files matching the patterns (tests excluded).
func sourceStrings(t *testing.T, patterns ...string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, p := range patterns {
		files, err := filepath.Glob(p)
		if err != nil || len(files) == 0 {
			t.Fatalf("no files match %s", p)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range regexp.MustCompile(`"([^"\\\n]*)"`).FindAllStringSubmatch(string(b), -1) {
				out[m[1]] = true
			}
		}
	}
	return out
}

// The package documentation (go doc ./server) and the README describe
// /readyz alike: the three statuses with their codes, the public answer
// without detail, /metrics on the admin listener only.
func TestReadyzDocsAgree(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`{"status":"ready"}`, `"degraded"`, `"not ready"`, "503", "the status alone", "adminListen", "/metrics", "no-store", "Retry-After"} {
		for name, doc := range map[string]string{"README.md": string(readme), "server/doc.go": string(pkg)} {
			if !strings.Contains(strings.ToLower(doc), strings.ToLower(want)) {
				t.Errorf("%s says nothing of %s about /readyz", name, want)
			}
		}
	}
	// What each says the public /readyz answers is what it answers.
	s := newTestServer(t, newFakeKeys(t))
	if w := get(s, "/readyz"); !strings.Contains(string(readme), "200 `"+w.Body.String()+"`") {
		t.Errorf("the README does not show the public answer %s", w.Body)
	}
}
