-- Two indexes that every scan paid for and nearly nothing read. Each b-tree a row enters is one
-- more page in the commit's log; a batch of scans at eight lanes wrote 39 pages of which these
-- two took 11 (ops/bench/scan.sh, the log's frames read back by page). Dropped, the scan
-- writer's time per scan fell by 30 % on SQLite.
-- audit_at: no query reads the audit log by time (an entity's trail is read by entity, and
-- its ids are time-ordered UUIDv7 for anyone who needs a range).
DROP INDEX audit_at;
-- crossings_lane_at: one append point per lane, so a batch wrote a page for every lane in it.
-- Its one reader, the scan page's last scans at a lane, walks the crossings' id index (minted in
-- time order) back from the newest over a bounded window instead (`checkpoint::recent`); the
-- lane statistics already read by id range.
DROP INDEX crossings_lane_at;
