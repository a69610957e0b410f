// Command deploycheck validates Signet's deployment recipes without a
// container engine or a cluster, and without fetching anything at run time:
//
//   - deploy/compose: loaded with compose-go, which validates it against
//     the Compose specification's schema, then checked for what Signet
//     needs (secrets from files, PostgreSQL healthy first);
//   - deploy/helm/signet: helm lint and helm template through the Helm Go
//     module, for several value sets; every rendered manifest is decoded
//     strictly (unknown or mistyped fields are errors) into the API types
//     of k8s.io/api and, for the ServiceMonitor, the Prometheus Operator's;
//     then the probes, user, secrets and PodDisruptionBudget are checked.
//
// With -signet BIN it also runs `signet config check` on the
// configuration files the recipes give Signet.
//
//	go run ./deploycheck -repo .. [-signet dist/signet]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	releasev1 "helm.sh/helm/v4/pkg/release/v1"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

func main() {
	repo := flag.String("repo", "..", "the Signet repository")
	signet := flag.String("signet", "", "a signet binary: run signet config check on the recipes' configurations")
	flag.Parse()
	c := &checker{repo: *repo, signet: *signet}
	c.compose()
	c.helm()
	if len(c.problems) > 0 {
		fmt.Fprintf(os.Stderr, "deploycheck: %d problem(s):\n  %s\n", len(c.problems), strings.Join(c.problems, "\n  "))
		os.Exit(1)
	}
	fmt.Println("deploycheck: compose and helm recipes ok")
}

type checker struct {
	repo, signet string
	problems     []string
}

func (c *checker) fail(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// compose loads deploy/compose/compose.yaml as docker compose would.
func (c *checker) compose() {
	dir := filepath.Join(c.repo, "deploy", "compose")
	opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, "compose.yaml")},
		cli.WithWorkingDirectory(dir), cli.WithEnv([]string{"SIGNET_ISSUER=https://id.example.com"}))
	if err != nil {
		c.fail("compose: %v", err)
		return
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		c.fail("compose: %s: %v", filepath.Join(dir, "compose.yaml"), err)
		return
	}
	signet, err := p.GetService("signet")
	if err != nil {
		c.fail("compose: %v", err)
		return
	}
	pg, err := p.GetService("postgres")
	if err != nil {
		c.fail("compose: %v", err)
		return
	}
	if d, ok := signet.DependsOn["postgres"]; !ok || d.Condition != types.ServiceConditionHealthy {
		c.fail("compose: signet must depend on postgres being service_healthy")
	}
	if pg.HealthCheck == nil || len(pg.HealthCheck.Test) == 0 {
		c.fail("compose: postgres has no health check")
	}
	if !signet.ReadOnly || !slices.Contains(signet.CapDrop, "ALL") {
		c.fail("compose: signet should run read_only with cap_drop [ALL]")
	}
	// Every *_FILE variable names a secret the service mounts, and no
	// secret value is in the environment.
	for name, svc := range map[string]types.ServiceConfig{"signet": signet, "postgres": pg} {
		mounted := map[string]bool{}
		for _, s := range svc.Secrets {
			mounted["/run/secrets/"+s.Source] = true
			if sec, ok := p.Secrets[s.Source]; !ok || sec.File == "" {
				c.fail("compose: secret %s of %s is not read from a file", s.Source, name)
			}
		}
		for k, v := range svc.Environment {
			if strings.HasSuffix(k, "_FILE") && (v == nil || !mounted[*v]) {
				c.fail("compose: %s: %s does not name a mounted secret (/run/secrets/NAME)", name, k)
			}
			if strings.Contains(strings.ToUpper(k), "PASSWORD") && !strings.HasSuffix(k, "_FILE") {
				c.fail("compose: %s: %s puts a password in the environment; use %s_FILE", name, k, k)
			}
		}
	}
	if len(signet.Configs) != 1 || signet.Configs[0].Target != "/etc/signet/signet.yaml" {
		c.fail("compose: signet must get its configuration at /etc/signet/signet.yaml")
	}
	// signet config check on the compose configuration, the secrets
	// standing in as files.
	if c.signet != "" {
		tmp, _ := os.MkdirTemp("", "deploycheck-")
		defer os.RemoveAll(tmp)
		pw, key := filepath.Join(tmp, "pw"), filepath.Join(tmp, "key")
		os.WriteFile(pw, []byte("0123456789abcdef\n"), 0o600)
		os.WriteFile(key, []byte("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n"), 0o600)
		c.configCheck("compose", filepath.Join(dir, "signet.yaml"),
			"SIGNET_ISSUER=https://id.example.com", "SIGNET_DB_PASSWORD_FILE="+pw, "SIGNET_KEY_SECRET_FILE="+key)
	}
}

// configCheck runs signet config check on file with env.
func (c *checker) configCheck(what, file string, env ...string) {
	cmd := exec.Command(c.signet, "config", "check", "--config", file)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		c.fail("%s: signet config check %s: %v\n%s", what, file, err, out)
	}
}

// helmCase is one value set the chart is rendered with.
type helmCase struct {
	name string
	vals map[string]any
	// want are the kinds rendered, in order of first appearance.
	want []string
}

func (c *checker) helm() {
	chartDir := filepath.Join(c.repo, "deploy", "helm", "signet")
	base := func() map[string]any {
		return map[string]any{
			"issuer":    "https://id.example.com",
			"postgres":  map[string]any{"dsn": "postgres://signet:pw@db:5432/signet?sslmode=verify-full"},
			"keySecret": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		}
	}
	withMonitor := base()
	withMonitor["serviceMonitor"] = map[string]any{"enabled": true, "labels": map[string]any{"release": "prom"}}
	withMonitor["config"] = map[string]any{
		"apiResources": []any{map[string]any{"name": "orders", "scopes": []any{"orders.read"}}},
		"clients": []any{map[string]any{
			"clientId": "billing", "secrets": []any{"sha256:" + strings.Repeat("ab", 32)},
			"allowedGrantTypes": []any{"client_credentials"}, "allowedScopes": []any{"orders.read"},
		}},
		"keyManagement": map[string]any{"rotationInterval": "30d", "signingAlgorithms": []any{map[string]any{"name": "ES256"}}},
	}
	existing := map[string]any{"issuer": "https://id.example.com", "existingSecret": "signet-secrets",
		"podDisruptionBudget": map[string]any{"minAvailable": 1}}
	cases := []helmCase{
		{"defaults", base(), []string{"PodDisruptionBudget", "Secret", "ConfigMap", "Service", "Deployment"}},
		{"serviceMonitor and config", withMonitor, []string{"PodDisruptionBudget", "Secret", "ConfigMap", "Service", "Deployment", "ServiceMonitor"}},
		{"existingSecret", existing, []string{"PodDisruptionBudget", "ConfigMap", "Service", "Deployment"}},
	}

	lint := action.NewLint()
	lint.Strict = true
	for _, tc := range cases {
		res := lint.Run([]string{chartDir}, tc.vals)
		for _, m := range res.Messages {
			if m.Severity >= support.WarningSev {
				c.fail("helm lint --strict (%s): %s", tc.name, m)
			}
		}
		if len(res.Errors) > 0 && !slices.ContainsFunc(res.Messages, func(m support.Message) bool { return m.Severity >= support.WarningSev }) {
			c.fail("helm lint --strict (%s): %v", tc.name, errors.Join(res.Errors...))
		}
	}
	// An issuer is required: rendering without one must fail clearly.
	if _, err := render(chartDir, map[string]any{"postgres": base()["postgres"], "keySecret": "x"}); err == nil ||
		!strings.Contains(err.Error(), "issuer") {
		c.fail("helm template without issuer: got %v, want an error naming issuer", err)
	}
	for _, tc := range cases {
		manifest, err := render(chartDir, tc.vals)
		if err != nil {
			c.fail("helm template (%s): %v", tc.name, err)
			continue
		}
		c.manifests(tc, manifest)
	}
}

// render is helm template: a client-only install dry run.
func render(chartDir string, vals map[string]any) (string, error) {
	ch, err := loader.Load(chartDir)
	if err != nil {
		return "", err
	}
	inst := action.NewInstall(action.NewConfiguration())
	inst.DryRunStrategy = action.DryRunClient
	inst.ReleaseName = "signet"
	inst.Namespace = "identity"
	inst.Replace = true
	rel, err := inst.Run(ch, vals)
	if err != nil {
		return "", err
	}
	r, ok := rel.(*releasev1.Release)
	if !ok {
		return "", fmt.Errorf("helm returned a %T", rel)
	}
	return r.Manifest, nil
}

// manifests decodes every document strictly into its API type and checks
// the chart's contract.
func (c *checker) manifests(tc helmCase, manifest string) {
	var (
		kinds  []string
		deploy *appsv1.Deployment
		pdb    *policyv1.PodDisruptionBudget
		cm     *corev1.ConfigMap
		secret *corev1.Secret
	)
	split := releaseutil.SplitManifests(manifest)
	keys := make([]string, 0, len(split))
	for k := range split {
		keys = append(keys, k)
	}
	sort.Sort(releaseutil.BySplitManifestsOrder(keys))
	for _, k := range keys {
		doc := split[k]
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			c.fail("helm template (%s): %v", tc.name, err)
			continue
		}
		var obj any
		switch meta.APIVersion + " " + meta.Kind {
		case "apps/v1 Deployment":
			deploy = &appsv1.Deployment{}
			obj = deploy
		case "policy/v1 PodDisruptionBudget":
			pdb = &policyv1.PodDisruptionBudget{}
			obj = pdb
		case "v1 ConfigMap":
			cm = &corev1.ConfigMap{}
			obj = cm
		case "v1 Secret":
			secret = &corev1.Secret{}
			obj = secret
		case "v1 Service":
			obj = &corev1.Service{}
		case "monitoring.coreos.com/v1 ServiceMonitor":
			obj = &monitoringv1.ServiceMonitor{}
		default:
			c.fail("helm template (%s): unexpected %s %s", tc.name, meta.APIVersion, meta.Kind)
			continue
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			c.fail("helm template (%s): %s %s does not match its API schema: %v", tc.name, meta.APIVersion, meta.Kind, err)
		}
		kinds = append(kinds, meta.Kind)
	}
	slices.Sort(kinds)
	want := slices.Clone(tc.want)
	slices.Sort(want)
	if !slices.Equal(kinds, want) {
		c.fail("helm template (%s): rendered %v, want %v", tc.name, kinds, want)
	}
	if deploy == nil || cm == nil {
		return
	}
	c.deployment(tc, deploy, pdb, secret)
	if c.signet != "" {
		tmp, _ := os.MkdirTemp("", "deploycheck-")
		defer os.RemoveAll(tmp)
		file := filepath.Join(tmp, "signet.yaml")
		os.WriteFile(file, []byte(cm.Data["signet.yaml"]), 0o600)
		c.configCheck("helm ("+tc.name+")", file,
			"SIGNET_DB_DSN=postgres://signet:pw@db:5432/signet", "SIGNET_KEY_SECRET=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	}
}

func (c *checker) deployment(tc helmCase, d *appsv1.Deployment, pdb *policyv1.PodDisruptionBudget, secret *corev1.Secret) {
	fail := func(format string, args ...any) {
		c.fail("helm template (%s): "+format, append([]any{tc.name}, args...)...)
	}
	spec := d.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		fail("the Deployment has %d containers, want 1", len(spec.Containers))
		return
	}
	ctr := spec.Containers[0]
	probe := func(name string, p *corev1.Probe, path string) {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path || p.HTTPGet.Port.String() != "http" {
			fail("%s probe must GET %s on port http", name, path)
		}
	}
	probe("readiness", ctr.ReadinessProbe, "/readyz")
	probe("liveness", ctr.LivenessProbe, "/healthz")
	sc := spec.SecurityContext
	if sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != 65532 || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		fail("the pod must run as UID 65532, non-root")
	}
	if cs := ctr.SecurityContext; cs == nil || cs.ReadOnlyRootFilesystem == nil || !*cs.ReadOnlyRootFilesystem ||
		cs.AllowPrivilegeEscalation == nil || *cs.AllowPrivilegeEscalation || cs.Capabilities == nil ||
		!slices.Contains(cs.Capabilities.Drop, "ALL") {
		fail("the container must have a read-only root, no privilege escalation and drop ALL capabilities")
	}
	// The secrets come from the Secret's files, named by *_FILE.
	var secretVol string
	for _, v := range spec.Volumes {
		if v.Secret != nil {
			secretVol = v.Secret.SecretName
		}
	}
	wantSecret := "signet-secrets"
	if secret != nil {
		wantSecret = secret.Name
		for _, k := range []string{"dsn", "key-secret"} {
			if secret.StringData[k] == "" {
				fail("the Secret lacks %s", k)
			}
		}
	}
	if secretVol != wantSecret {
		fail("the secrets volume mounts Secret %q, want %q", secretVol, wantSecret)
	}
	env := map[string]string{}
	for _, e := range ctr.Env {
		env[e.Name] = e.Value
		if e.Name != "" && !strings.HasSuffix(e.Name, "_FILE") {
			fail("environment variable %s: secrets come from files (*_FILE)", e.Name)
		}
	}
	if env["SIGNET_DB_DSN_FILE"] != "/etc/signet/secrets/dsn" || env["SIGNET_KEY_SECRET_FILE"] != "/etc/signet/secrets/key-secret" {
		fail("SIGNET_DB_DSN_FILE and SIGNET_KEY_SECRET_FILE must name the Secret's files: %v", env)
	}
	if pdb == nil {
		fail("no PodDisruptionBudget")
		return
	}
	for k, v := range pdb.Spec.Selector.MatchLabels {
		if d.Spec.Template.Labels[k] != v {
			fail("the PodDisruptionBudget selects %s=%s, which the pods do not carry", k, v)
		}
	}
	if (pdb.Spec.MinAvailable == nil) == (pdb.Spec.MaxUnavailable == nil) {
		fail("the PodDisruptionBudget must set exactly one of minAvailable and maxUnavailable")
	}
}
