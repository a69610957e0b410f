package filestore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/signet-id/signet/key"
)

// recordFormat is the version of the record file format this package
// writes and reads.
const recordFormat = 1

// fileRecord is key.Record as a file holds it. Times are UTC, RFC 3339
// with microseconds; byte slices are base64.
type fileRecord struct {
	Format      int       `json:"format"`
	KID         string    `json:"kid"`
	Algorithm   string    `json:"alg"`
	Created     time.Time `json:"created"`
	SignsFrom   time.Time `json:"signsFrom"`
	RetiresAt   time.Time `json:"retiresAt"`
	DeleteAfter time.Time `json:"deleteAfter"`
	Revoked     time.Time `json:"revoked,omitzero"`
	X509        bool      `json:"x509"`
	Certificate []byte    `json:"certificate,omitempty"`
	Protection  string    `json:"protection"`
	PrivateKey  []byte    `json:"privateKey"`
}

// storedTime is t as stored: UTC, whole microseconds; zero stays zero.
func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

func encodeRecord(r key.Record) ([]byte, error) {
	b, err := json.MarshalIndent(fileRecord{
		Format:      recordFormat,
		KID:         r.KID,
		Algorithm:   string(r.Algorithm),
		Created:     storedTime(r.Created),
		SignsFrom:   storedTime(r.SignsFrom),
		RetiresAt:   storedTime(r.RetiresAt),
		DeleteAfter: storedTime(r.DeleteAfter),
		Revoked:     storedTime(r.Revoked),
		X509:        r.X509,
		Certificate: r.Certificate,
		Protection:  r.Protection,
		PrivateKey:  r.PrivateKey,
	}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode record: %w", err)
	}
	return append(b, '\n'), nil
}

// decodeRecord parses a record file. The caller validates the record.
func decodeRecord(b []byte) (key.Record, error) {
	var f fileRecord
	if err := json.Unmarshal(b, &f); err != nil {
		return key.Record{}, fmt.Errorf("not a key record: %w", err)
	}
	switch {
	case f.Format > recordFormat:
		return key.Record{}, fmt.Errorf("record format %d is newer than this signet knows (%d); upgrade signet", f.Format, recordFormat)
	case f.Format != recordFormat:
		return key.Record{}, fmt.Errorf("record format %d is unknown (want %d)", f.Format, recordFormat)
	}
	utc := func(t time.Time) time.Time {
		if t.IsZero() {
			return time.Time{}
		}
		return t.UTC()
	}
	return key.Record{
		KID:         f.KID,
		Algorithm:   key.Algorithm(f.Algorithm),
		Created:     utc(f.Created),
		SignsFrom:   utc(f.SignsFrom),
		RetiresAt:   utc(f.RetiresAt),
		DeleteAfter: utc(f.DeleteAfter),
		Revoked:     utc(f.Revoked),
		X509:        f.X509,
		Certificate: f.Certificate,
		Protection:  f.Protection,
		PrivateKey:  f.PrivateKey,
	}, nil
}
