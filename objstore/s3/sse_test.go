package s3_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strata-io/strata/objstore/s3"
	"github.com/strata-io/strata/test/harness"
)

// SSE-S3 and SSE-KMS against MinIO configured with a static KMS key: the
// stored objects report the requested encryption and read back intact.
func TestServerSideEncryption(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	srv := harness.StartMinioT(t, "MINIO_KMS_SECRET_KEY=strata-key:"+key)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.CreateBucket(ctx, "enc"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sse   s3.SSE
		keyID string
		want  types.ServerSideEncryption
	}{
		{s3.SSES3, "", types.ServerSideEncryptionAes256},
		{s3.SSEKMS, "strata-key", types.ServerSideEncryptionAwsKms},
	} {
		t.Run(string(tc.sse), func(t *testing.T) {
			b, err := s3.New(ctx, s3.Config{
				Bucket: "enc", Endpoint: srv.URL(), PathStyle: true, Region: "us-east-1",
				AccessKeyID: srv.AccessKey, SecretAccessKey: s3.Secret(srv.SecretKey),
				SSE: tc.sse, KMSKeyID: tc.keyID,
			})
			if err != nil {
				t.Fatal(err)
			}
			name := "obj-" + string(tc.sse)
			if err := b.Upload(ctx, name, bytes.NewReader([]byte("secret payload"))); err != nil {
				t.Fatal(err)
			}
			head, err := b.Client().HeadObject(ctx, &s3sdk.HeadObjectInput{Bucket: aws.String("enc"), Key: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			if head.ServerSideEncryption != tc.want {
				t.Fatalf("ServerSideEncryption = %q, want %q", head.ServerSideEncryption, tc.want)
			}
			rc, err := b.GetRange(ctx, name, 7, -1)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(rc)
			rc.Close()
			if string(data) != "payload" {
				t.Fatalf("read back %q", data)
			}
		})
	}
}

func TestParseSSE(t *testing.T) {
	for in, want := range map[string]s3.SSE{"": s3.SSENone, "none": s3.SSENone, "s3": s3.SSES3, "AES256": s3.SSES3, "kms": s3.SSEKMS, "aws:kms": s3.SSEKMS} {
		if got, err := s3.ParseSSE(in); err != nil || got != want {
			t.Errorf("ParseSSE(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := s3.ParseSSE("aes"); err == nil {
		t.Error("ParseSSE(aes) succeeded")
	}
}
