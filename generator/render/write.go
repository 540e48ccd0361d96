package render

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write puts the chart at dir/<name>/ and the manifests at dir/<name>.yaml. Both are
// written to a temporary folder first and moved into place, so a failure leaves the
// previous output as it was.
func Write(r *Result, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(dir, ".airkube-")
	if err != nil {
		return fmt.Errorf("creating a temporary folder in %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp)
	for name, data := range r.Chart {
		p := filepath.Join(tmp, "chart", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, "manifest.yaml"), r.Manifest, 0o644); err != nil {
		return err
	}
	chartDir, manifest := filepath.Join(dir, r.Name()), filepath.Join(dir, r.Name()+".yaml")
	old := filepath.Join(tmp, "old")
	if err := os.Rename(chartDir, old); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("replacing %s: %w", chartDir, err)
	}
	if err := os.Rename(filepath.Join(tmp, "chart"), chartDir); err != nil {
		_ = os.Rename(old, chartDir)
		return fmt.Errorf("replacing %s: %w", chartDir, err)
	}
	if err := os.Rename(filepath.Join(tmp, "manifest.yaml"), manifest); err != nil {
		return fmt.Errorf("replacing %s: %w", manifest, err)
	}
	return nil
}
