package main

import (
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/spf13/cobra"

	"github.com/emmansun/gmsm/smx509"

	"github.com/ecert/ecert/signing"
)

var keysFlags struct {
	authority string
	province  string
}

func keyDir() string { prod, _ := conf.KeyDirs(); return prod }

func devKeyDir() string { _, dev := conf.KeyDirs(); return dev }

func init() {
	keys := &cobra.Command{
		Use:   "keys",
		Short: "Manage the SM2 root CA, the issuing authority's signing key and the verification service's key",
		Long: "Manage the SM2 root CA and the issuing authority's signing key.\n\n" +
			"Private keys are stored encrypted (PKCS#8, PBES2/AES-256) under --key-dir with the passphrase from\n" +
			signing.EnvPassphrase + " or the file named by " + signing.EnvPassphraseFile + ".",
	}
	initCmd := &cobra.Command{
		Use:   "init",
		Short: "Create the root CA and the first issuing-authority certificate",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pass, err := signing.PassphraseFromEnv()
			if err != nil {
				return err
			}
			cfg := signing.CAConfig{}
			if keysFlags.authority != "" {
				cfg.AuthoritySubject = pkix.Name{CommonName: keysFlags.authority, Organization: []string{keysFlags.authority}, Country: []string{"CN"}}
				if keysFlags.province != "" {
					cfg.AuthoritySubject.Province = []string{keysFlags.province}
				}
				cfg.RootSubject = pkix.Name{CommonName: keysFlags.authority + " 电子证照根证书", Organization: []string{keysFlags.authority}, Country: []string{"CN"}}
			}
			st, err := signing.NewStore(keyDir(), pass, cfg)
			if err != nil {
				return err
			}
			if err := st.Init(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created key store %s\n", keyDir())
			return showKeys(cmd.OutOrStdout(), st)
		},
	}
	initCmd.Flags().StringVar(&keysFlags.authority, "authority", "", "issuing authority's name (default "+signing.DefaultAuthorityName+")")
	initCmd.Flags().StringVar(&keysFlags.province, "province", "", "authority's province for the certificate subject")
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Make a new issuing-authority key; documents signed with earlier keys keep verifying",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pass, err := signing.PassphraseFromEnv()
			if err != nil {
				return err
			}
			st, err := signing.NewStore(keyDir(), pass, signing.CAConfig{})
			if err != nil {
				return err
			}
			c, err := st.Rotate(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "new issuing key, certificate serial %s\n", c.SerialNumber.Text(16))
			return showKeys(cmd.OutOrStdout(), st)
		},
	}
	show := &cobra.Command{
		Use:   "show",
		Short: "List the root and issuing-authority certificates (no passphrase needed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := signing.NewStore(keyDir(), nil, signing.CAConfig{})
			if err != nil {
				return err
			}
			return showKeys(cmd.OutOrStdout(), st)
		},
	}
	keys.AddCommand(initCmd, rotate, show)
	rootCmd.AddCommand(keys)
}

func showKeys(w io.Writer, st *signing.Store) error {
	root, err := st.Root()
	if err != nil {
		return err
	}
	iss, err := st.IssuerCertificates()
	if err != nil {
		return err
	}
	cur, _ := st.Current()
	line := func(role string, c *smx509.Certificate) {
		fmt.Fprintf(w, "%-8s %s\n         serial %s  valid %s – %s\n         SM3 fingerprint %s\n", role, c.Subject.String(),
			c.SerialNumber.Text(16), c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly), hex.EncodeToString(signing.SM3(c.Raw)))
	}
	line("root", root)
	for _, c := range iss {
		role := "retired"
		if hex.EncodeToString(c.SerialNumber.Bytes()) == cur {
			role = "current"
		}
		line(role, c)
	}
	if svc, err := st.ServiceCertificate(); err == nil {
		line("service", svc) // signs verification reports only
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
