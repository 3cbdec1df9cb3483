# Hindsight — the two commands a newcomer needs are `make run` and `make test`.
# Both install what is missing first (see `setup`).

CARGO ?= cargo
DEMO  ?= demo/shop.jsonl
BIN   := target/release/hindsight

.PHONY: run test setup build bench lint clean

## Open the bundled demo log: indexes it and walks through finding the planted bug.
run: setup build
	@echo "== hindsight info $(DEMO)"
	@$(BIN) info $(DEMO) --pretty
	@echo "== when did an order total first go negative?"
	$(BIN) find $(DEMO) --where 'any(.[]; (.total? // 0) < 0)'
	@echo "== which events changed that order's total?"
	$(BIN) blame $(DEMO) --path /order-1137/total

## Every test: Rust unit, property, golden and CLI tests.
test: setup
	$(CARGO) test --workspace --locked --release

## Build the release binaries.
build:
	$(CARGO) build --workspace --locked --release

## Benchmarks on generated logs (see crates/bench); prints a table.
bench: setup
	$(CARGO) run --locked --release -p hindsight-bench -- run

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

## Install what a fresh Debian/Ubuntu machine lacks.
setup:
	@sh scripts/setup.sh

clean:
	$(CARGO) clean
