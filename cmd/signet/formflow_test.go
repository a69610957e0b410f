package main

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"testing"
)

// formFlow is a browser-like client (httpFlow) for the login pages: it
// keeps cookies, follows no redirect and reads every body.
type formFlow struct {
	t *testing.T
	c *http.Client
}

func newFormFlow(t *testing.T) formFlow { return formFlow{t: t, c: httpFlow()} }

func (f formFlow) get(u string) (*http.Response, string) {
	f.t.Helper()
	resp, err := f.c.Get(u)
	if err != nil {
		f.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func (f formFlow) post(u string, form url.Values) (*http.Response, string) {
	f.t.Helper()
	resp, err := f.c.PostForm(u, form)
	if err != nil {
		f.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// hidden returns the hidden fields (request, csrf) of a login page.
func hidden(page string) url.Values {
	v := url.Values{}
	for _, m := range reHidden.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}
