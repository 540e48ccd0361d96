// Package tests holds airkube's whole-release tests: golden cases under golden/<case>/
// (spec → rendered manifests), invariants checked over every case, determinism, Helm
// lint and restart scope. Cluster tests live in e2e/ behind the e2e build tag.
package tests
