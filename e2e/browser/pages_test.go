package browser

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The viewports every page is photographed in.
var viewports = []struct {
	name          string
	width, height int64
	mobile        bool
}{
	{"phone", 390, 844, true},
	{"desktop", 1280, 800, false},
}

// driver drives one browser through the pages.
type driver struct {
	t    *testing.T
	bctx context.Context
}

func newDriver(t *testing.T) *driver {
	exe := findChromium(t)
	return &driver{t: t, bctx: newBrowser(t, exe)}
}

// run runs steps, failing the test with what on error.
func (d *driver) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.bctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		d.t.Fatalf("%s: %v", what, err)
	}
}

// phone switches to the phone viewport (the one the flows run in).
func (d *driver) phone() chromedp.Action[chromedp.Void] {
	return chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2))
}

// page checks the page on screen: its title, its accessibility (axe-core)
// and that it fits a phone; then photographs it on a phone and on a
// desktop, into the artifacts (name-phone.png, name-desktop.png).
func (d *driver) page(name, title string) {
	d.t.Helper()
	if got := value(d.t, d.bctx, chromedp.Title()); got != title {
		d.t.Fatalf("%s: title %q, want %q", name, got, title)
	}
	d.axe(name)
	for _, v := range viewports {
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
		if v.mobile {
			opts = []chromedp.EmulateViewportOption{chromedp.EmulateMobile, chromedp.EmulateScale(2)}
		}
		d.run("viewport "+v.name, chromedp.EmulateViewport(v.width, v.height, opts...))
		if v.mobile {
			if w := value(d.t, d.bctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > int(v.width) {
				d.t.Errorf("%s is %d CSS pixels wide on a %d-pixel phone", name, w, v.width)
			}
		}
		shot := value(d.t, d.bctx, chromedp.FullScreenshot(100)) // quality 100: PNG
		path := filepath.Join(artifactDir(d.t), name+"-"+v.name+".png")
		if err := os.WriteFile(path, shot, 0o644); err != nil {
			d.t.Fatal(err)
		}
	}
	d.run("back to the phone", d.phone())
}

// axeScript returns axe-core's script, or "" and why it is missing.
func axeScript() (string, string) {
	path := os.Getenv("SIGNET_AXE_JS")
	if path == "" {
		path = filepath.Join("a11y", "node_modules", "axe-core", "axe.min.js")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "axe-core is not installed (" + err.Error() + "): the accessibility check is skipped; run `bash .ci/a11y.sh` (npm ci in e2e/browser/a11y; .ci/run does it) or set SIGNET_AXE_JS to axe.min.js"
	}
	return string(b), ""
}

// axeViolation is one rule axe-core found broken.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axe runs axe-core on the page (WCAG 2.1 A and AA, and best practices)
// as a subtest: zero serious or critical violations; the others are
// logged. It skips, saying why, when axe-core is not installed.
func (d *driver) axe(name string) {
	d.t.Helper()
	d.t.Run("axe/"+name, func(t *testing.T) {
		src, why := axeScript()
		if src == "" {
			t.Skip(why)
		}
		for _, v := range axeRun(t, d.bctx, src) {
			if v.Impact == "serious" || v.Impact == "critical" {
				t.Errorf("%s: %s violation %s: %s at %v", name, v.Impact, v.ID, v.Help, v.Nodes)
			} else {
				t.Logf("%s: %s issue %s: %s at %v", name, v.Impact, v.ID, v.Help, v.Nodes)
			}
		}
	})
}

// text returns the text of the element sel.
func (d *driver) text(sel string) string {
	d.t.Helper()
	return value(d.t, d.bctx, chromedp.Text(chromedp.CSS(sel)))
}

// logoDataURI is a 48x48 PNG logo (a rounded violet square) as a data:
// URI, drawn here so the test needs no file.
func logoDataURI(t *testing.T) string {
	img := image.NewRGBA(image.Rect(0, 0, 48, 48))
	violet := color.RGBA{0x6d, 0x28, 0xd9, 0xff}
	for y := range 48 {
		for x := range 48 {
			dx, dy := min(x, 47-x), min(y, 47-y)
			if dx+dy >= 6 || (dx >= 3 && dy >= 3) {
				img.Set(x, y, violet)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
}

// containsAll reports the first of wants that s lacks ("" for none).
func containsAll(s string, wants ...string) string {
	for _, w := range wants {
		if !strings.Contains(s, w) {
			return w
		}
	}
	return ""
}

// axeRun runs axe-core (its script src) on the page of bctx and returns
// the violations: WCAG 2.1 A and AA, and best practices.
func axeRun(t *testing.T, bctx context.Context, src string) []axeViolation {
	t.Helper()
	// Runtime.evaluate is not subject to the page's CSP, which keeps
	// forbidding every script the page itself would load.
	value(t, bctx, chromedp.Evaluate[bool](src+";true"))
	js := `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})
		.then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" "))}))))`
	out := value(t, bctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		t.Fatalf("axe-core's answer: %v: %s", err, out)
	}
	return vs
}

// TestAxeFindsViolations: the accessibility check fails a page that breaks
// the rules (an unlabelled field, grey on grey), so its silence on
// Signet's pages means something.
func TestAxeFindsViolations(t *testing.T) {
	src, why := axeScript()
	if src == "" {
		t.Skip(why)
	}
	d := newDriver(t)
	bad := `<!doctype html><html><head><title>bad</title></head><body><p style="color:#aaa;background:#bbb">faint</p><input id=x></body></html>`
	d.run("open a bad page", chromedp.Navigate("data:text/html;base64,"+base64.StdEncoding.EncodeToString([]byte(bad))))
	found := map[string]bool{}
	for _, v := range axeRun(t, d.bctx, src) {
		if v.Impact == "serious" || v.Impact == "critical" {
			found[v.ID] = true
		}
	}
	if !found["label"] || !found["color-contrast"] || !found["html-has-lang"] {
		t.Fatalf("axe-core found %v on a page without a label, contrast or lang", found)
	}
}
