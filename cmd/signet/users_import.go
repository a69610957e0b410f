package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet/user"
	"github.com/signet-id/signet/userstore"
)

// importEntry is one user of an import file.
type importEntry struct {
	at           string         // file:line (CSV) or file[index] (JSON), for messages
	Username     string         `json:"username"`
	Subject      string         `json:"subject"`
	Password     string         `json:"password"`
	PasswordHash string         `json:"passwordHash"`
	Disabled     bool           `json:"disabled"`
	Claims       map[string]any `json:"claims"`
}

// maxImportErrors is how many problems import lists before it stops.
const maxImportErrors = 20

func newUsersImportCmd(e *env, o *usersOptions) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Add many users from a CSV or JSON file, with passwords or existing hashes",
		Long: `import adds the users of a CSV or JSON file to the store. Every entry is
checked first; when any is wrong, import lists the problems (file:line)
and adds nobody.

Each user has a username, optionally a subject (default: a random UUID),
and either a password (checked against the password policy, then hashed
with argon2id) or a passwordHash taken as it is: an argon2id PHC string
($argon2id$v=19$...) or a bcrypt hash ($2a$, $2b$, $2y$). Imported hashes
are not checked against the policy (the password is unknown); a bcrypt
hash, or an argon2id hash with other parameters than passwords.argon2id,
is replaced at the user's next successful sign-in.

JSON: an array of objects with username, subject, password, passwordHash,
disabled (true or false) and claims (an object).

CSV: a header row, then one user a row. The columns username, subject,
password, passwordHash and disabled are the fields; every other column is
a claim of that name, its cell JSON when it parses as JSON (true,
["staff","ops"], {"country":"UK"}), else text; an empty cell sets nothing.

The format follows the file's extension (.csv, .json) unless --format
says otherwise.`,
		Example: `  signet users import people.csv --config signet.yaml
  signet users import export.json --config signet.yaml --format json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("%s takes one FILE (see %s --help)", cmd.CommandPath(), cmd.CommandPath())}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			if format == "" {
				switch strings.ToLower(filepath.Ext(path)) {
				case ".csv":
					format = "csv"
				case ".json":
					format = "json"
				default:
					return usageError{fmt.Errorf("cannot tell the format of %s from its extension; pass --format csv or --format json", path)}
				}
			}
			if format != "csv" && format != "json" {
				return usageError{fmt.Errorf("--format %q: use csv or json", format)}
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			var entries []importEntry
			if format == "csv" {
				entries, err = readImportCSV(path, data)
			} else {
				entries, err = readImportJSON(path, data)
			}
			if err != nil {
				return err
			}
			if len(entries) == 0 {
				return fmt.Errorf("%s holds no users; nothing imported", path)
			}
			return withUsers(cmd, o, e, func(ctx context.Context, s *usersSession) error {
				return importUsers(ctx, e, s, entries)
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "csv or json (default: from the file's extension)")
	return cmd
}

// readImportJSON reads a JSON array of users.
func readImportJSON(path string, data []byte) ([]importEntry, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	var entries []importEntry
	if err := d.Decode(&entries); err != nil {
		return nil, fmt.Errorf("%s: %w (want an array of objects with username, subject, password or passwordHash, disabled, claims)", path, err)
	}
	for i := range entries {
		entries[i].at = fmt.Sprintf("%s[%d] (%s)", path, i, entries[i].Username)
	}
	return entries, nil
}

// readImportCSV reads a CSV file of users with a header row.
func readImportCSV(path string, data []byte) ([]importEntry, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = 0
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: read the header row: %w", path, err)
	}
	header[0] = strings.TrimPrefix(header[0], "\ufeff") // a BOM from a spreadsheet
	hasName := false
	for _, h := range header {
		hasName = hasName || h == "username"
	}
	if !hasName {
		return nil, fmt.Errorf("%s: the header row has no username column; the first row names the columns: username,subject,password,passwordHash,disabled and claims", path)
	}
	var entries []importEntry
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		en := importEntry{at: path + ":" + strconv.Itoa(line)}
		for i, h := range header {
			v := rec[i]
			if v == "" {
				continue
			}
			switch h {
			case "username":
				en.Username = v
			case "subject":
				en.Subject = v
			case "password":
				en.Password = v
			case "passwordHash", "password_hash":
				en.PasswordHash = v
			case "disabled":
				b, err := strconv.ParseBool(v)
				if err != nil {
					return nil, fmt.Errorf("%s: disabled must be true or false, got %q", en.at, v)
				}
				en.Disabled = b
			default:
				if en.Claims == nil {
					en.Claims = map[string]any{}
				}
				en.Claims[h] = claimValue(v)
			}
		}
		entries = append(entries, en)
	}
	return entries, nil
}

// importUsers checks every entry, then adds them all.
func importUsers(ctx context.Context, e *env, s *usersSession, entries []importEntry) error {
	policy, err := s.policy()
	if err != nil {
		return err
	}
	var problems []string
	problem := func(at, format string, args ...any) {
		problems = append(problems, at+": "+fmt.Sprintf(format, args...))
	}
	names, subjects := map[string]string{}, map[string]string{}
	for i := range entries {
		en := &entries[i]
		if en.Subject == "" {
			if en.Subject, err = newSubject(); err != nil {
				return err
			}
		}
		switch {
		case en.Username == "":
			problem(en.at, "no username")
			continue
		case (en.Password == "") == (en.PasswordHash == ""):
			problem(en.at, "give either a password or a passwordHash")
		case en.Password != "":
			if err := policy.Check(en.Password); err != nil {
				problem(en.at, "%v", err)
			}
		default:
			if err := userstore.ValidateHash(en.PasswordHash); err != nil {
				problem(en.at, "passwordHash: %v", err)
			}
		}
		if err := user.CheckClaims(en.Claims); err != nil {
			problem(en.at, "%v", claimErr(err))
		}
		if at, dup := names[en.Username]; dup {
			problem(en.at, "username %q is also at %s", en.Username, at)
		}
		if at, dup := subjects[en.Subject]; dup {
			problem(en.at, "subject %q is also at %s", en.Subject, at)
		}
		names[en.Username], subjects[en.Subject] = en.at, en.at
		if err := s.checkNew(en.Username, en.Subject); err != nil {
			problem(en.at, "%v", err)
		}
		if _, err := s.store.UserByName(ctx, en.Username); err == nil {
			problem(en.at, "a store user %q exists; remove the entry or delete that user first", en.Username)
		} else if !errors.Is(err, userstore.ErrNotFound) {
			return err
		}
		if _, err := s.store.UserBySubject(ctx, en.Subject); err == nil {
			problem(en.at, "subject %q is a store user's", en.Subject)
		}
		if len(problems) >= maxImportErrors {
			break
		}
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(e.stderr, p)
		}
		return fmt.Errorf("%d problems in the file (listed above); nothing imported", len(problems))
	}
	stale := 0
	for i, en := range entries {
		hash := en.PasswordHash
		if en.Password != "" {
			if hash, err = policy.Hash(en.Password); err != nil {
				return err
			}
		} else if !policy.Current(hash) {
			stale++
		}
		t := usersNow()
		err := s.store.CreateUser(ctx, userstore.Record{Subject: en.Subject, Username: en.Username, PasswordHash: hash,
			Claims: en.Claims, Disabled: en.Disabled, Created: t, Updated: t})
		if err != nil {
			return fmt.Errorf("%s: %w; the %d users before it were imported", en.at, err, i)
		}
	}
	fmt.Fprintf(e.stdout, "imported %d users\n", len(entries))
	if stale > 0 {
		fmt.Fprintf(e.stdout, "%d of them have bcrypt hashes or other argon2id parameters: upgraded to the configured argon2id at their next sign-in\n", stale)
	}
	return nil
}
