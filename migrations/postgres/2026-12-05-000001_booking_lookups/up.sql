-- A driver's or a plate's active booking, and the booking travelling on a pass, are looked up
-- with the active states as bound parameters; the partial unique indexes (which enforce one
-- active booking per driver and per plate) cannot serve a query whose states are not literals,
-- so each such lookup scanned every booking. Plain indexes serve them.
CREATE INDEX bookings_driver ON bookings (driver_id, status);
CREATE INDEX bookings_plate ON bookings (plate, status);
CREATE INDEX bookings_trade_pass ON bookings (trade_pass, status);
