package keybackend

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/signet-id/signet/key"
)

// kmsPendingWindowDays is the shortest deletion window KMS allows.
const kmsPendingWindowDays = 7

// kmsBackend is the AWS KMS backend. Credentials come from the SDK's
// standard chain (environment, shared files, instance or task role).
type kmsBackend struct {
	client  *kms.Client
	region  string
	issuer  string
	timeout time.Duration
}

func openAWSKMS(ctx context.Context, c Config) (Backend, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(c.Region))
	if err != nil {
		return nil, fmt.Errorf("%w: awskms: load AWS configuration: %w", ErrConfig, err)
	}
	client := kms.NewFromConfig(cfg, func(o *kms.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
	})
	return &kmsBackend{client: client, region: c.Region, issuer: c.Issuer, timeout: c.SignTimeout}, nil
}

func (b *kmsBackend) Type() string { return AWSKMS }

// kmsSpec returns the key spec and signing algorithm for alg.
func kmsSpec(alg key.Algorithm, rsaBits int) (types.KeySpec, types.SigningAlgorithmSpec, error) {
	var spec types.KeySpec
	switch alg.Family() {
	case key.FamilyRSA, key.FamilyRSAPSS:
		switch rsaBits {
		case 2048:
			spec = types.KeySpecRsa2048
		case 3072:
			spec = types.KeySpecRsa3072
		case 4096:
			spec = types.KeySpecRsa4096
		default:
			return "", "", fmt.Errorf("%w: awskms makes RSA keys of 2048, 3072 or 4096 bits, not %d", ErrUnsupported, rsaBits)
		}
	case key.FamilyEC:
		spec = map[key.Algorithm]types.KeySpec{key.ES256: types.KeySpecEccNistP256, key.ES384: types.KeySpecEccNistP384, key.ES512: types.KeySpecEccNistP521}[alg]
	case key.FamilyEdDSA:
		return types.KeySpecEccNistEdwards25519, types.SigningAlgorithmSpecEd25519Sha512, nil
	}
	sa := map[key.Algorithm]types.SigningAlgorithmSpec{
		key.RS256: types.SigningAlgorithmSpecRsassaPkcs1V15Sha256, key.RS384: types.SigningAlgorithmSpecRsassaPkcs1V15Sha384, key.RS512: types.SigningAlgorithmSpecRsassaPkcs1V15Sha512,
		key.PS256: types.SigningAlgorithmSpecRsassaPssSha256, key.PS384: types.SigningAlgorithmSpecRsassaPssSha384, key.PS512: types.SigningAlgorithmSpecRsassaPssSha512,
		key.ES256: types.SigningAlgorithmSpecEcdsaSha256, key.ES384: types.SigningAlgorithmSpecEcdsaSha384, key.ES512: types.SigningAlgorithmSpecEcdsaSha512,
	}[alg]
	if spec == "" || sa == "" {
		return "", "", fmt.Errorf("%w: the awskms backend cannot make %s keys; choose another algorithm or keyBackend.type software", ErrUnsupported, alg)
	}
	return spec, sa, nil
}

func (b *kmsBackend) Check(alg key.Algorithm, rsaBits int) error {
	return Supports(AWSKMS, alg, rsaBits)
}

func (b *kmsBackend) Generate(ctx context.Context, kid string, alg key.Algorithm, rsaBits int) (Ref, error) {
	spec, _, err := kmsSpec(alg, rsaBits)
	if err != nil {
		return Ref{}, err
	}
	tags := []types.Tag{{TagKey: aws.String("kid"), TagValue: aws.String(kid)}}
	if b.issuer != "" {
		tags = append(tags, types.Tag{TagKey: aws.String("issuer"), TagValue: aws.String(b.issuer)})
	}
	out, err := b.client.CreateKey(ctx, &kms.CreateKeyInput{
		KeyUsage:    types.KeyUsageTypeSignVerify,
		KeySpec:     spec,
		Description: aws.String("signet managed " + string(alg) + " key " + kid),
		Tags:        tags,
	})
	if err != nil {
		return Ref{}, fmt.Errorf("%w: awskms: create %s key %s: %w", ErrUnavailable, alg, kid, err)
	}
	arn := aws.ToString(out.KeyMetadata.Arn)
	pk, err := b.client.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(arn)})
	if err != nil {
		return Ref{}, fmt.Errorf("%w: awskms: public key of %s (%s): %w", ErrUnavailable, kid, arn, err)
	}
	return Ref{Backend: AWSKMS, ID: arn, Region: b.region, Public: pk.PublicKey}, nil
}

// missing reports whether err says the key is gone or unusable for good.
func kmsMissing(err error) bool {
	var nf *types.NotFoundException
	var st *types.KMSInvalidStateException
	var dis *types.DisabledException
	return errors.As(err, &nf) || errors.As(err, &st) || errors.As(err, &dis)
}

func (b *kmsBackend) Signer(ctx context.Context, ref Ref, alg key.Algorithm) (crypto.Signer, error) {
	pub, err := ref.PublicKey()
	if err != nil {
		return nil, err
	}
	_, sa, err := kmsSpec(alg, rsaBitsOf(pub))
	if err != nil {
		return nil, err
	}
	if ref.Region != "" && ref.Region != b.region {
		return nil, fmt.Errorf("%w: awskms key %s is in region %s, but keyBackend.region is %s", ErrObjectMissing, ref.ID, ref.Region, b.region)
	}
	d, err := b.client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(ref.ID)})
	switch {
	case kmsMissing(err):
		return nil, fmt.Errorf("%w: awskms key %s: %w", ErrObjectMissing, ref.ID, err)
	case err != nil:
		return nil, fmt.Errorf("%w: awskms: describe key %s: %w", ErrUnavailable, ref.ID, err)
	case d.KeyMetadata.KeyState != types.KeyStateEnabled:
		return nil, fmt.Errorf("%w: awskms key %s is %s, not Enabled", ErrObjectMissing, ref.ID, d.KeyMetadata.KeyState)
	}
	pk, err := b.client.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(ref.ID)})
	if err != nil {
		return nil, fmt.Errorf("%w: awskms: public key of %s: %w", ErrUnavailable, ref.ID, err)
	}
	if !bytes.Equal(pk.PublicKey, ref.Public) {
		return nil, fmt.Errorf("%w: awskms key %s", ErrPublicMismatch, ref.ID)
	}
	mt := types.MessageTypeDigest
	if alg.Family() == key.FamilyEdDSA {
		mt = types.MessageTypeRaw
	}
	return &timedSigner{
		pub: pub, timeout: b.timeout, what: "awskms key " + ref.ID,
		sign: func(ctx context.Context, msg []byte, _ crypto.SignerOpts) ([]byte, error) {
			out, err := b.client.Sign(ctx, &kms.SignInput{
				KeyId: aws.String(ref.ID), Message: msg, MessageType: mt, SigningAlgorithm: sa,
			})
			if err != nil {
				return nil, err
			}
			return out.Signature, nil
		},
	}, nil
}

// Destroy schedules the key's deletion after KMS's shortest pending window
// (7 days): until then an operator can still cancel it.
func (b *kmsBackend) Destroy(ctx context.Context, ref Ref) error {
	_, err := b.client.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{
		KeyId: aws.String(ref.ID), PendingWindowInDays: aws.Int32(kmsPendingWindowDays),
	})
	if err != nil && !kmsMissing(err) {
		return fmt.Errorf("%w: awskms: schedule deletion of %s: %w", ErrUnavailable, ref.ID, err)
	}
	return nil
}

func (b *kmsBackend) Close() error { return nil }
