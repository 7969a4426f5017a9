package etcdtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Certs are PEM files written by WriteCerts.
type Certs struct {
	CAFile                string // the CA that signs both certificates below
	ServerCert, ServerKey string // for 127.0.0.1, ::1 and localhost
	ClientCert, ClientKey string // client authentication, CN "strata"
}

// WriteCerts creates a CA, a server certificate for the loopback addresses
// and a client certificate, and writes them (PEM) into dir. The name labels
// the CA so two sets of certificates are easy to tell apart in errors.
func WriteCerts(dir, name string) (Certs, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Certs{}, fmt.Errorf("etcdtest: CA key: %w", err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name + " test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return Certs{}, fmt.Errorf("etcdtest: CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return Certs{}, fmt.Errorf("etcdtest: parse CA: %w", err)
	}
	c := Certs{CAFile: filepath.Join(dir, name+"-ca.pem")}
	if err := writePEM(c.CAFile, "CERTIFICATE", caDER); err != nil {
		return Certs{}, err
	}
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage, ips []net.IP, dns []string, file string) (string, string, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return "", "", fmt.Errorf("etcdtest: %s key: %w", cn, err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			IPAddresses:  ips,
			DNSNames:     dns,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return "", "", fmt.Errorf("etcdtest: %s certificate: %w", cn, err)
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return "", "", fmt.Errorf("etcdtest: %s key: %w", cn, err)
		}
		certFile := filepath.Join(dir, name+"-"+file+".pem")
		keyFile := filepath.Join(dir, name+"-"+file+"-key.pem")
		if err := writePEM(certFile, "CERTIFICATE", der); err != nil {
			return "", "", err
		}
		if err := writePEM(keyFile, "PRIVATE KEY", keyDER); err != nil {
			return "", "", err
		}
		return certFile, keyFile, nil
	}
	loopback := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	if c.ServerCert, c.ServerKey, err = leaf(2, "etcd", x509.ExtKeyUsageServerAuth, loopback, []string{"localhost"}, "server"); err != nil {
		return Certs{}, err
	}
	if c.ClientCert, c.ClientKey, err = leaf(3, "strata", x509.ExtKeyUsageClientAuth, nil, nil, "client"); err != nil {
		return Certs{}, err
	}
	return c, nil
}

func writePEM(path, typ string, der []byte) error {
	data := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("etcdtest: write %s: %w", path, err)
	}
	return nil
}
