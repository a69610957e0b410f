package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// defaultHealthURL is /healthz on the default listen address.
const defaultHealthURL = "http://127.0.0.1:8080/healthz"

func newHealthcheckCmd(e *env) *cobra.Command {
	var (
		target  string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Check that a running signet answers /healthz (exit 0) or not (exit 1)",
		Long: `healthcheck sends GET to a running server's /healthz and exits 0 when it
answers 200, 1 otherwise (not listening, an error status, no answer within
--timeout). It needs no shell, curl or wget, so a container image without
them can use it:

  HEALTHCHECK CMD ["/signet", "healthcheck"]`,
		Example: `  signet healthcheck
  signet healthcheck --url http://127.0.0.1:9000/healthz --timeout 2s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u, err := url.Parse(target)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return usageError{fmt.Errorf("--url %q: use an http(s) URL such as %s", target, defaultHealthURL)}
			}
			if timeout <= 0 {
				return usageError{fmt.Errorf("--timeout %s: use a positive duration such as 5s", timeout)}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			status, err := healthcheck(ctx, u.String())
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "healthy: %s answered %s\n", u, status)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&target, "url", defaultHealthURL, "the /healthz URL of the server to check")
	f.DurationVar(&timeout, "timeout", 5*time.Second, "how long to wait for the answer")
	return cmd
}

// healthcheck GETs target and returns its status line when it is 200.
func healthcheck(ctx context.Context, target string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return "", err
	}
	// No proxy from the environment: the server is checked directly.
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := client.Do(req)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "", fmt.Errorf("unhealthy: nothing listens at %s (connection refused); is signet serve running there? Point --url at its listen address", target)
	case errors.Is(err, context.DeadlineExceeded):
		return "", fmt.Errorf("unhealthy: %s did not answer in time; raise --timeout if the server is just slow", target)
	case err != nil:
		return "", fmt.Errorf("unhealthy: GET %s: %w", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("unhealthy: %s answered %s: %s", target, resp.Status, body)
	}
	return resp.Status, nil
}
