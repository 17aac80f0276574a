# Two commands matter: `make demo` and `make test`. Both install what is missing first.
GO       ?= go
GOFLAGS  ?=
# scripts/deps.sh installs the pinned golangci-lint here.
GOLANGCI_LINT ?= $(shell $(GO) env GOPATH)/bin/golangci-lint
DEMO_SECONDS ?= 0
export DEMO_SECONDS

.PHONY: install deps build demo test test-rabbitmq bench bench-cameras soak vet lint verify-samples screenshots clean

deps:
	bash scripts/deps.sh

# The version is stamped into reports (edge verify) so an inspector can name the build.
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)

build: deps
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/edge ./cmd/edge

# The demo: replays testvideos/ over a built-in RTSP server, starts an embedded MQTT
# broker (configs/demo.yaml leaves mqtt.broker empty) and prints events until Ctrl-C,
# or for DEMO_SECONDS seconds when that is set.
demo: build
	bash scripts/demo.sh

# The tests: vet and the linters (.golangci.yml), then every package with the
# race detector and the Mat-leak profile.
test: deps
	$(GO) vet ./...
	$(GOLANGCI_LINT) run ./...
	$(GO) test -race -tags matprofile -timeout 20m -count=1 ./...

# The fleet failover test of make test (kill -9 the broker node under edge run,
# nothing lost) against a 3-node RabbitMQ cluster with the MQTT plugin instead of
# NATS, and the RabbitMQ ACL example of docs/acl on one node. Not in make test: it installs rabbitmq-server and an Erlang cluster takes
# a minute or more to form. See docs/fleet.md.
test-rabbitmq:
	bash scripts/deps.sh rabbitmq-server
	$(GO) test -race -tags 'matprofile rabbitmq' -timeout 15m -count=1 -v -run 'TestFleetFailoverRabbitMQ|TestACLExampleRabbitMQ' ./cmd/edge ./internal/fleet

lint: deps
	$(GOLANGCI_LINT) run ./...

bench: deps
	$(GO) test -run='^$$' -bench=. -benchtime=3s ./...

# How many cameras this box sustains (edge bench --find-max) on vtest.mp4 and on
# a 720p @ 15 fps clip made from it; reports in out/. See docs/performance.md.
bench-cameras: build
	bash scripts/bench-cameras.sh

# A 10-minute soak benchmark (not a test): 8 cameras, RSS every minute, out/soak.json.
soak: build
	SOAK=1 bash scripts/bench-cameras.sh

# Runs edge verify on every scenario clip (and vtest.mp4 with the demo config)
# and fails on any verdict other than the expected one.
verify-samples: build
	bash scripts/verify-samples.sh

# Screenshots of the operator console in docs/, taken from the current build
# by the headless-Chromium test of the console.
screenshots: deps
	EDGE_SCREENSHOTS=$(CURDIR)/docs $(GO) test -count=1 -run TestConsoleInBrowser ./internal/app

clean:
	rm -rf bin

# Installs the binary, the systemd unit (configs/edge.service) and the example
# config, and creates the dedicated system user; DESTDIR stages a package.
PREFIX ?= /usr/local
install: build
	install -D -m 0755 bin/edge $(DESTDIR)$(PREFIX)/bin/edge
	install -D -m 0644 configs/edge.service $(DESTDIR)/etc/systemd/system/edge.service
	install -d -m 0750 $(DESTDIR)/etc/edge $(DESTDIR)/var/lib/edge
	test -e $(DESTDIR)/etc/edge/edge.yaml || install -m 0640 configs/example.yaml $(DESTDIR)/etc/edge/edge.yaml
	if [ -z "$(DESTDIR)" ]; then \
		id edge >/dev/null 2>&1 || useradd --system --home-dir /var/lib/edge --shell /usr/sbin/nologin edge; \
		chown -R edge:edge /var/lib/edge; chgrp -R edge /etc/edge; \
		systemctl daemon-reload; \
	fi
