# Granska on Debian 12, built the way scripts/run.sh builds it (scripts/deps.sh installs the packages).
#   docker build -t granska .
#   docker run -p 8080:8080 granska                     # the embedded default: SQLite and the local queue
# docker-compose.yml runs the distributed set-up: PostgreSQL, Redis, the API and two workers.
FROM debian:12
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
COPY . .
RUN bash scripts/deps.sh \
    && cmake --preset release -DGRANSKA_BUILD_TESTS=OFF -DGRANSKA_BUILD_BENCH=OFF >/dev/null \
    && cmake --build --preset release --target granska \
    && install -m 755 build/release/apps/granska/granska /usr/local/bin/granska \
    && rm -rf build /var/lib/apt/lists/*
WORKDIR /data
EXPOSE 8080
ENTRYPOINT ["granska"]
CMD ["serve", "--listen", "0.0.0.0:8080", "--db", "sqlite:///data/granska.db", "--upload-dir", "/data/uploads"]
