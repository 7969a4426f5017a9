package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// applyConfigSources fills flags not given on the command line from, in
// rising priority, the YAML file named by --config (keys are flag names)
// and environment variables STRATA_<FLAG> (upper case, '-' as '_').
// Flags on the command line win over both.
func applyConfigSources(fs *flag.FlagSet, configPath string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	fileVals := map[string]string{}
	if configPath != "" {
		raw, err := os.ReadFile(configPath)
		if err != nil {
			return fmt.Errorf("read config file: %w", err)
		}
		var doc map[string]any
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			return fmt.Errorf("parse config file %s: %w", configPath, err)
		}
		for k, v := range doc {
			if fs.Lookup(k) == nil {
				return fmt.Errorf("config file %s: unknown key %q", configPath, k)
			}
			fileVals[k] = fmt.Sprint(v)
		}
	}
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || set[f.Name] || f.Name == "config" {
			return
		}
		env := "STRATA_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s: %w", env, e)
			}
			return
		}
		if v, ok := fileVals[f.Name]; ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("config file key %s: %w", f.Name, e)
			}
		}
	})
	return err
}
