# Helpers of the benchmarks. Source it after scripts/lib/db.sh (it uses q).

# bench_wait SQL SECONDS — until the query answers t; bounded, fails the script on timeout.
# Polled inside one session, a transaction per look (pg_stat_activity is read once per
# transaction): a psql started every 20 ms would take CPU from the workers being measured.
bench_wait() {
    q -c "DO \$w\$
          DECLARE deadline timestamptz := clock_timestamp() + interval '$2 seconds'; ok boolean;
          BEGIN
              LOOP
                  EXECUTE \$q\$$1\$q\$ INTO ok;
                  EXIT WHEN ok;
                  IF clock_timestamp() > deadline THEN
                      RAISE EXCEPTION 'timed out waiting for: %', \$q\$$1\$q\$;
                  END IF;
                  COMMIT;
                  PERFORM pg_sleep(0.02);
              END LOOP;
          END \$w\$" >/dev/null || exit 1
}
