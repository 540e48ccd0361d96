// Package model makes every decision about a release: which components run, with which
// command, image, env, mounts, probes and resources; which volumes, secrets, roles and
// scalers exist; what airflow.cfg says. Its output, Values, is what the chart's
// templates draw, and nothing more is decided there.
package model
