# The two commands (README.md). Each installs what is missing, builds, and runs.
.PHONY: demo test build deps bench fuzz clean

demo:
	scripts/demo.sh

test:
	scripts/test.sh

build:
	scripts/build.sh

deps:
	scripts/install-deps.sh

bench:
	bench/run.sh

fuzz:
	scripts/fuzz.sh

clean:
	rm -rf build build-fuzz demo
