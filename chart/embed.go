// Package chart embeds the base Helm chart's templates. airkube adds Chart.yaml,
// values.yaml and values.schema.json for each release; the templates only draw what
// those values say.
package chart

import "embed"

// Files holds templates/ (with _helpers.tpl and NOTES.txt) and .helmignore.
//
//go:embed all:templates .helmignore
var Files embed.FS
