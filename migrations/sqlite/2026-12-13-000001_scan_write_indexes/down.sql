CREATE INDEX crossings_lane_at ON crossings (lane, at);
CREATE INDEX audit_at ON audit_log (at);
