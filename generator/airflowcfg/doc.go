// Package airflowcfg knows which airflow.cfg keys each supported Airflow version reads.
// The lists under keys/ are generated from the real packages by
// hack/airflow/gen-config-keys.sh; Airflow silently ignores keys it does not know, so a
// typo or a key from another version would otherwise go unnoticed until it misbehaves.
package airflowcfg
