# Hindsight — a newcomer needs two commands: `make run` and `make test`.
# Both install what is missing first (scripts/setup.sh).

CARGO ?= cargo
DEMO  ?= demo/shop.jsonl
CLI   := target/release/hindsight
APP   := target/release/hindsight-app

.PHONY: run test corpus setup ui app cli e2e bench package lint clean

## Open the desktop app on the bundled demo log (or, without a display, show the CLI).
run: setup app cli
	@if [ -z "$${DISPLAY:-}" ] && [ -z "$${WAYLAND_DISPLAY:-}" ]; then \
		echo "There is no display to open the window on; the same answers are on the command line:"; \
		echo "  $(CLI) info $(DEMO) --pretty"; \
		echo "  $(CLI) find $(DEMO) --where 'any(.[]; (.total? // 0) < 0)'"; \
		echo "  $(CLI) blame $(DEMO) --path /order-1137/total"; \
		$(CLI) find $(DEMO) --where 'any(.[]; (.total? // 0) < 0)'; \
	else \
		$(APP) $(DEMO); \
	fi

## Every test: Rust (unit, property, golden, CLI, IPC bindings drift), UI unit tests, end-to-end.
## The UI is built first: the app embeds ui/dist when it compiles.
test: setup ui
	$(CARGO) test --workspace --locked --release
	cd ui && npm test
	$(CARGO) build --locked --release -p hindsight-app
	bash scripts/e2e.sh
	bash scripts/report-shot.sh

## The UI bundle (ui/dist), embedded into the app at compile time.
# Conformance over the real logs of other projects, when they sit beside
# the checkout (skipped otherwise).
corpus:
	bash scripts/corpus.sh

ui: setup
	cd ui && npm run build

## The release app at target/release/hindsight-app.
app: ui
	$(CARGO) build --locked --release -p hindsight-app

cli:
	$(CARGO) build --locked --release -p hindsight-cli

## End-to-end tests on the real app through tauri-driver + WebKitWebDriver under Xvfb.
e2e: app
	bash scripts/e2e.sh

## Benchmarks on generated logs; prints a table and writes target/bench.json.
bench: setup
	$(CARGO) run --locked --release -p hindsight-bench -- run

## A .deb with the Tauri bundler (icon, desktop entry for .jsonl/.ndjson/.log).
package: ui
	ui/node_modules/.bin/tauri build --bundles deb
	@ls target/release/bundle/deb/*.deb

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

setup:
	@sh scripts/setup.sh

clean:
	$(CARGO) clean
	rm -rf ui/dist ui/node_modules
