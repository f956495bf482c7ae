# Passerelle container image: the `passerelle` binary, the browser application
# (web/), the chart library it loads (node_modules/uplot/dist) and the SOP
# definitions (sop/): what scripts/setup builds and scripts/run serves.
# PostgreSQL runs elsewhere (README.md, "Running the container").
#
#   docker build -t passerelle .
#   docker run --rm --user "$(id -u)" -v "$PWD/secrets:/out" passerelle keygen --out /out/master.key
#   sudo chown 10001 secrets/master.key          # the image's user must read it (mode stays 0600)
#   docker run --rm -e PASSERELLE_DATABASE_URL=postgresql://... passerelle migrate
#   docker run -d -p 8080:8080 \
#       -e PASSERELLE_DATABASE_URL=postgresql://user:pass@db/passerelle \
#       -v "$PWD/secrets/master.key:/run/secrets/passerelle.key:ro" \
#       passerelle
#
# Every setting in README.md can be given with -e. Behind a TLS proxy, also set
# PASSERELLE_SECURE_COOKIES=true; or mount a certificate and set
# PASSERELLE_TLS_CERT and PASSERELLE_TLS_KEY.

FROM debian:bookworm AS build
# The build part of PASSERELLE_DEB_PACKAGES in scripts/lib.sh (compilers,
# libraries, Check): keep the two lists in step.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config git ca-certificates \
      libmicrohttpd-dev libpq-dev libsodium-dev libjansson-dev \
      libcurl4-openssl-dev libxlsxwriter-dev \
      check libsubunit-dev \
 && rm -rf /var/lib/apt/lists/*
# .dockerignore keeps build folders and .data/ (keys, database) out.
COPY . /src
RUN cmake -S /src -B /src/build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPASSERELLE_TESTS=OFF \
 && cmake --build /src/build -j"$(nproc)" --target passerelle \
 && /src/build/passerelle --version

# The npm packages the pages use (package-lock.json, without devDependencies:
# no browser-test tooling in the image). Only uPlot's dist/ is copied on; the
# server serves a fixed list of its files under /lib/ from node_modules next
# to the web root.
FROM debian:bookworm AS web
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      nodejs npm ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error \
 && test -f node_modules/uplot/dist/uPlot.iife.min.js \
 && test -f node_modules/uplot/dist/uPlot.min.css

FROM debian:bookworm AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libmicrohttpd12 libpq5 libsodium23 libjansson4 libxlsxwriter4 \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# A system user without a home or a login shell; it owns nothing in the image.
RUN useradd --system --uid 10001 --user-group --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin passerelle
COPY --from=build /src/build/passerelle /usr/local/bin/passerelle
COPY --from=build /src/web /usr/share/passerelle/web
COPY --from=build /src/sop /usr/share/passerelle/sop
COPY --from=web /src/node_modules/uplot/LICENSE \
     /usr/share/passerelle/node_modules/uplot/
COPY --from=web /src/node_modules/uplot/dist/uPlot.iife.min.js \
     /src/node_modules/uplot/dist/uPlot.esm.js \
     /src/node_modules/uplot/dist/uPlot.min.css \
     /usr/share/passerelle/node_modules/uplot/dist/
# Fails the image build when the binary needs a library not installed above.
RUN if ldd /usr/local/bin/passerelle | grep 'not found'; then exit 1; fi

ENV PASSERELLE_WEB_ROOT=/usr/share/passerelle/web \
    PASSERELLE_LIB_ROOT=/usr/share/passerelle/node_modules \
    PASSERELLE_SOP=/usr/share/passerelle/sop/mali.json \
    PASSERELLE_LISTEN=0.0.0.0:8080 \
    PASSERELLE_KEY_FILE=/run/secrets/passerelle.key
EXPOSE 8080
USER passerelle
WORKDIR /usr/share/passerelle
# No curl in the image: bash's /dev/tcp asks GET /healthz on the listen port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PASSERELLE_LISTEN##*:} && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["passerelle"]
CMD ["serve"]
