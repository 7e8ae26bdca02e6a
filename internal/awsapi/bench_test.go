package awsapi_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// BenchmarkGetSecretValueAWS measures GetSecretValue through the AWS
// front end below the network: SigV4 verification, the policy check,
// the engine and the JSON response, 8-way parallel. The request is
// signed once and replayed (the server verifies every time).
func BenchmarkGetSecretValueAWS(b *testing.B) {
	e := newAWSEnv(b)
	if _, err := e.sm.CreateSecret(context.Background(), &sm.CreateSecretInput{Name: aws.String("bench/db"), SecretString: aws.String(`{"password":"x"}`)}); err != nil {
		b.Fatal(err)
	}
	body := `{"SecretId":"bench/db"}`
	signed := e.signedOp(b, time.Now(), "GetSecretValue", body)
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(body)))
			req.Host = signed.Host
			req.Header = signed.Header.Clone()
			w := httptest.NewRecorder()
			e.srv.Handler.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("%d %s", w.Code, w.Body.String())
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
