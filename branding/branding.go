package branding

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
)

// DefaultProductName names the product on the pages when ui.productName
// is not set.
const DefaultProductName = "Signet"

// Bounds on what the pages carry inline.
const (
	// MaxLogoDataURI bounds a data: logo, sent in every page of its client.
	MaxLogoDataURI = 32 << 10
	// MaxStylesheet bounds ui.stylesheet, sent inline in every page.
	MaxStylesheet = 64 << 10
	// MaxName bounds a product or client display name.
	MaxName = 100
)

// Image types a data: logo may have.
var dataImageTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"}

// CheckLogoURI checks a client's logo: an https URL, which the page's
// Content-Security-Policy then allows exactly (img-src with the URL), or
// a base64 data: URI of an image of at most MaxLogoDataURI bytes (img-src
// data:). Anything else (http, another scheme, a relative URL) is refused:
// the pages load nothing from elsewhere in clear.
func CheckLogoURI(s string) error {
	if strings.HasPrefix(s, "data:") {
		if len(s) > MaxLogoDataURI {
			return errors.New("the data: URI is longer than 32 KiB; use a smaller image or an https URL")
		}
		meta, data, ok := strings.Cut(s[len("data:"):], ",")
		typ, isB64 := strings.CutSuffix(meta, ";base64")
		valid := false
		for _, t := range dataImageTypes {
			valid = valid || typ == t
		}
		if !ok || !isB64 || !valid {
			return errors.New("a data: logo must be a base64 image: data:image/png;base64,... (png, jpeg, gif, webp or svg+xml)")
		}
		if _, err := base64.StdEncoding.DecodeString(data); err != nil {
			return errors.New("the data: logo is not valid base64")
		}
		return nil
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil:
		return errors.New("must be an https URL (https://app.example.com/logo.png) or a data: URI of an image; the pages load nothing over plain http or from relative URLs")
	case strings.ContainsAny(s, " \t\r\n;,'\"<>"):
		return errors.New("must not contain spaces, quotes, angle brackets, ';' or ','; the page's Content-Security-Policy names the URL exactly (percent-encode them)")
	case u.Fragment != "":
		return errors.New("must not have a fragment (#...)")
	}
	return nil
}

// ImageSource returns the Content-Security-Policy img-src source that
// allows exactly the logo uri (checked with CheckLogoURI).
func ImageSource(uri string) string {
	if strings.HasPrefix(uri, "data:") {
		return "data:"
	}
	u, err := url.Parse(uri)
	if err != nil {
		return "'none'"
	}
	if u.RawQuery != "" {
		// A source expression has no query: it matches the path, which
		// is as close to the exact URL as CSP allows.
		u.RawQuery = ""
	}
	return u.String()
}

// CheckClientURI checks a client's home page: an absolute http(s) URL.
func CheckClientURI(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return errors.New("must be an absolute http(s) URL, e.g. https://app.example.com")
	}
	return nil
}

// CheckName checks a display or product name: printable, without line
// breaks, at most MaxName characters.
func CheckName(s string) error {
	if strings.TrimSpace(s) != s || strings.ContainsAny(s, "\r\n\t") || len([]rune(s)) > MaxName {
		return errors.New("must be one line of at most 100 characters, without leading or trailing spaces")
	}
	return nil
}

// CheckStylesheet checks the operator's style sheet, sent inline in a
// <style> element: at most MaxStylesheet bytes and no "</" (which would
// end the element).
func CheckStylesheet(css string) error {
	switch {
	case len(css) > MaxStylesheet:
		return errors.New("is larger than 64 KiB; it is sent inline in every page")
	case strings.Contains(css, "</"), strings.Contains(css, "<!--"):
		return errors.New(`must not contain "</" or "<!--": it is sent inline in a <style> element`)
	}
	return nil
}
