// Package render is airkube's library entry point: spec and overlays in, a Helm chart
// and its rendered manifests out. Render does no I/O beyond reading its inputs; Write
// puts a result on disk atomically. The CLI and the e2e tests both call these.
package render
