package adminapi

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/paths"
)

// TestOpenAPI checks docs/admin-api.yaml against the handlers: the
// document is valid OpenAPI 3.1, every answer of a scripted session
// (successes and refusals) matches the document's response for its
// status, every well-formed request matches its request schema, and every
// operation the document describes is exercised.
func TestOpenAPI(t *testing.T) {
	spec, err := os.ReadFile("../docs/admin-api.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("docs/admin-api.yaml: %s: %s", e.Message, e.Reason)
		}
		t.FailNow()
	}
	model, merrs := doc.BuildV3Model()
	if merrs != nil {
		t.Fatal(merrs)
	}
	e := newEnv(t)
	covered := map[string]bool{}
	// exchange sends a request; wellFormed says it should match the
	// document's request schema (refusals of bad input do not).
	exchange := func(token, method, path, body string, wellFormed bool, headers ...string) resp {
		t.Helper()
		r := e.do(token, method, path, body, headers...)
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for _, h := range headers {
			k, val, _ := strings.Cut(h, ": ")
			req.Header.Set(k, val)
		}
		res := &http.Response{StatusCode: r.code, Header: r.h, Body: io.NopCloser(bytes.NewBufferString(r.body)), Request: req}
		if ok, verrs := v.ValidateHttpResponse(req, res); !ok {
			for _, ve := range verrs {
				t.Errorf("%s %s -> %d: the answer does not match the document: %s (%s)\n%s", method, path, r.code, ve.Message, ve.Reason, r.body)
			}
		}
		if wellFormed {
			req.Body = io.NopCloser(strings.NewReader(body))
			if ok, verrs := v.ValidateHttpRequest(req); !ok {
				for _, ve := range verrs {
					t.Errorf("%s %s: the request does not match the document: %s (%s)", method, path, ve.Message, ve.Reason)
				}
			}
		}
		if item, _, tmpl := paths.FindPath(req, &model.Model, nil); item != nil {
			covered[method+" "+tmpl] = true
		} else {
			t.Errorf("%s %s: not in the document", method, path)
		}
		return r
	}

	const client = `{"clientId":"billing","allowedGrantTypes":["client_credentials"],"allowedScopes":["orders.read"],"clientName":"Billing"}`
	exchange("", "GET", "/admin/v1/clients", "", false) // no token: 401
	exchange(e.read, "POST", "/admin/v1/clients", client, true)
	r := exchange(e.admin, "POST", "/admin/v1/clients", client, true)
	etag := r.h.Get("ETag")
	exchange(e.admin, "POST", "/admin/v1/clients", client, true) // 409
	exchange(e.admin, "POST", "/admin/v1/clients", `{"clientId":"x","secret":"s"}`, false)
	exchange(e.read, "GET", "/admin/v1/clients?limit=1", "", true)
	exchange(e.read, "GET", "/admin/v1/clients/billing", "", true)
	exchange(e.read, "GET", "/admin/v1/clients/nobody", "", true)
	update := `{"clientId":"billing","allowedGrantTypes":["client_credentials","authorization_code"],"allowedScopes":["orders.write"],` +
		`"redirectUris":["https://billing.example.com/cb"],"requireConsent":true,"allowRememberConsent":true,"requireMfa":true,` +
		`"displayName":"Billing","logoUri":"https://billing.example.com/logo.png","clientUri":"https://billing.example.com","allowedConnectors":["local"]}`
	exchange(e.admin, "PUT", "/admin/v1/clients/billing", update, true)
	exchange(e.admin, "PUT", "/admin/v1/clients/billing", update, true, `If-Match: "12345"`)
	r = exchange(e.admin, "PUT", "/admin/v1/clients/billing", update, true, "If-Match: "+etag)
	r = exchange(e.admin, "POST", "/admin/v1/clients/billing/rotate-secret?gracePeriod=1h", "", true)
	exchange(e.read, "GET", "/admin/v1/clients", "", true)
	exchange(e.admin, "DELETE", "/admin/v1/clients/billing", "", true)
	exchange(e.admin, "DELETE", "/admin/v1/clients/billing", "", true, "If-Match: "+etag)
	exchange(e.admin, "DELETE", "/admin/v1/clients/billing", "", true, "If-Match: "+r.h.Get("ETag"))

	const res = `{"name":"https://api.example/orders","scopes":["orders.read"]}`
	r = exchange(e.admin, "POST", "/admin/v1/resources", res, true)
	exchange(e.admin, "POST", "/admin/v1/resources", `{"scopes":["a"]}`, false)
	exchange(e.read, "GET", "/admin/v1/resources", "", true)
	exchange(e.read, "GET", "/admin/v1/resources/https:%2F%2Fapi.example%2Forders", "", true)
	exchange(e.admin, "PUT", "/admin/v1/resources/https:%2F%2Fapi.example%2Forders", `{"name":"https://api.example/orders","scopes":["orders.read","orders.write"]}`, true, "If-Match: "+r.h.Get("ETag"))
	exchange(e.admin, "DELETE", "/admin/v1/resources/https:%2F%2Fapi.example%2Forders", "", true, "If-Match: *")
	exchange(e.read, "GET", "/admin/v1/keys", "", true)
	exchange(e.read, "GET", "/admin/v1/audit?limit=2", "", true)
	exchange(e.read, "GET", "/admin/v1/audit?kind=client&id=billing", "", true)

	var missing []string
	for p, item := range model.Model.Paths.PathItems.FromOldest() {
		for m := range item.GetOperations().KeysFromOldest() {
			if op := strings.ToUpper(m) + " " + p; !covered[op] {
				missing = append(missing, op)
			}
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("operations of docs/admin-api.yaml no request exercised: %v", missing)
	}
	if t.Failed() {
		fmt.Fprintln(os.Stderr, "covered:", covered)
	}
}
