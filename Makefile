# airkube: `make render` renders the example release; `make test` runs every test.
SPEC    ?= values/example.yaml
OVERLAY ?=
OUT     ?= out

.PHONY: build render test test-cold unit verify e2e e2e-kind e2e-kind-faults cluster-up cluster-down kind-up kind-down bench update-golden

build: ## Build bin/airkube.
	go build -o bin/airkube ./generator/cmd/airkube

render: build ## Render SPEC (with OVERLAY folders) into OUT/<name>/ and OUT/<name>.yaml.
	bin/airkube render -f $(SPEC) $(foreach o,$(OVERLAY),--overlay $(o)) --out $(OUT)

test: ## Run every test: unit, golden, verify, cluster e2e and real-Airflow tests.
	hack/make-rules/test.sh

test-cold: ## Run make test as on a fresh machine: a fresh clone with every cache (Go, pip, apt, Docker, airkube's) empty, in a temp folder.
	hack/make-rules/test-cold.sh

unit: ## Run the unit, golden and invariant tests only (no cluster, no Airflow).
	go test ./...

verify: ## Fail when generated files (golden output, formatting, go.mod) drift from the code.
	hack/make-rules/verify.sh

e2e: ## Run the cluster e2e suite against a local kwok control plane (built from Go sources).
	hack/make-rules/e2e.sh

e2e-kind: ## Run the kind suite: real pods, images built from packages, a DAG through every task group.
	AIRKUBE_E2E_CLUSTER=kind hack/make-rules/e2e.sh

e2e-kind-faults: ## The full fault set on kind (task pod killed, api-server deleted, a group rolled mid-task, the node drained); not part of make test.
	AIRKUBE_E2E_CLUSTER=kind AIRKUBE_E2E_RUN=TestE2EKindFaults AIRKUBE_KIND_FAULTS=1 hack/make-rules/e2e.sh

cluster-up: ## Start the local control plane; prints its kubeconfig path.
	hack/cluster/up.sh

cluster-down: ## Stop the local control plane and remove what it made.
	hack/cluster/down.sh

kind-up: ## Start a kind cluster with real pods and the kind overlay's images; prints its kubeconfig path.
	hack/kind/up.sh

kind-down: ## Delete the kind cluster (and the Docker engine kind-up started).
	hack/kind/down.sh

bench: ## Print render benchmarks (1, 10, 100 task groups) and the CLI's end-to-end time.
	hack/make-rules/bench.sh

update-golden: ## Rewrite golden files from the current code; review the diff.
	go test ./tests/ ./generator/validate/ ./generator/docs/ ./generator/importer/ -update
