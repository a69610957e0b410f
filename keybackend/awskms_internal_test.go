package keybackend

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/signet-id/signet/key"
)

// TestKMSKeyShapeAndDeletion checks what KMS holds: a SIGN_VERIFY key of
// the algorithm's key spec, tagged with the issuer and the kid; and that
// Destroy schedules its deletion with the shortest window, 7 days.
func TestKMSKeyShapeAndDeletion(t *testing.T) {
	ep := os.Getenv("SIGNET_TEST_KMS_ENDPOINT")
	if ep == "" {
		t.Skip("AWS KMS backend tests skipped: set SIGNET_TEST_KMS_ENDPOINT to a KMS-compatible server (e.g. `source .ci/backends.sh`, which starts local-kms)")
	}
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		t.Setenv("AWS_ACCESS_KEY_ID", "signet-test")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "signet-test")
	}
	region := os.Getenv("SIGNET_TEST_KMS_REGION")
	if region == "" {
		region = "eu-west-1"
	}
	ctx := context.Background()
	b, err := Open(ctx, Config{Type: AWSKMS, Region: region, Endpoint: ep, Issuer: "https://signet.test"})
	if err != nil {
		t.Fatal(err)
	}
	kb := b.(*kmsBackend)
	for _, tc := range []struct {
		alg  key.Algorithm
		bits int
		spec types.KeySpec
	}{{key.ES256, 0, types.KeySpecEccNistP256}, {key.PS256, 3072, types.KeySpecRsa3072}} {
		kid := "kid-" + string(tc.alg) + "-" + time.Now().Format("150405.000000")
		ref, err := b.Generate(ctx, kid, tc.alg, tc.bits)
		if err != nil {
			t.Fatal(err)
		}
		d, err := kb.client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(ref.ID)})
		if err != nil {
			t.Fatal(err)
		}
		if m := d.KeyMetadata; m.KeyUsage != types.KeyUsageTypeSignVerify || m.KeySpec != tc.spec {
			t.Errorf("%s: usage %s, spec %s; want SIGN_VERIFY, %s", tc.alg, m.KeyUsage, m.KeySpec, tc.spec)
		}
		tags, err := kb.client.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: aws.String(ref.ID)})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, tg := range tags.Tags {
			got[aws.ToString(tg.TagKey)] = aws.ToString(tg.TagValue)
		}
		if got["kid"] != kid || got["issuer"] != "https://signet.test" {
			t.Errorf("%s: tags %v; want kid %s and issuer https://signet.test", tc.alg, got, kid)
		}
		before := time.Now()
		if err := b.Destroy(ctx, ref); err != nil {
			t.Fatal(err)
		}
		d, err = kb.client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(ref.ID)})
		if err != nil {
			t.Fatal(err)
		}
		if m := d.KeyMetadata; m.KeyState != types.KeyStatePendingDeletion || m.DeletionDate == nil ||
			m.DeletionDate.Before(before.Add(7*24*time.Hour-time.Minute)) || m.DeletionDate.After(time.Now().Add(7*24*time.Hour+time.Minute)) {
			t.Errorf("%s: after Destroy: state %s, deletion %v; want PendingDeletion in 7 days", tc.alg, m.KeyState, m.DeletionDate)
		}
	}
}
