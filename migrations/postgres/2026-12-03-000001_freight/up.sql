-- Freight drivers, their vehicles, clearance slots and bookings (issue 11).

-- A driver signs in with a one-time code mailed to this address: no password. The identity
-- number is unique when given, so one person cannot hold several accounts (and several bookings).
CREATE TABLE drivers (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    lang TEXT NOT NULL CHECK (lang IN ('zh', 'vi', 'en')),
    name_zh TEXT,
    name_latin TEXT,
    nationality TEXT,
    id_type TEXT,
    id_number TEXT,
    phone TEXT,
    -- The border-trade pass (permit number) a Chinese driver crosses on; checked when saved.
    trade_pass TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX drivers_identity ON drivers (id_type, id_number);

-- One-time sign-in codes, stored hashed; few attempts each, short expiry.
CREATE TABLE driver_codes (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    -- The client address that asked (rate limits per address survive a restart).
    client TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    used_at TIMESTAMP
);
CREATE INDEX driver_codes_email ON driver_codes (email, created_at);
CREATE INDEX driver_codes_client ON driver_codes (client, created_at);

CREATE TABLE driver_sessions (
    id_hash TEXT PRIMARY KEY,
    driver_id TEXT NOT NULL REFERENCES drivers (id),
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

CREATE TABLE vehicles (
    id TEXT PRIMARY KEY,
    driver_id TEXT NOT NULL REFERENCES drivers (id),
    -- Normalised as the trade pass normalises plates.
    plate TEXT NOT NULL,
    country TEXT NOT NULL CHECK (country IN ('CN', 'VN')),
    trailer_plate TEXT,
    vehicle_type TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    removed_at TIMESTAMP
);
CREATE UNIQUE INDEX vehicles_driver_plate ON vehicles (driver_id, plate) WHERE removed_at IS NULL;

-- One clearance hour of one port, direction and lane type. A row exists once someone booked
-- it or a supervisor changed it; its capacity was computed from the lanes' measured check time
-- when it was created. `booked` counts active bookings and can never pass `capacity`: the
-- booking takes its place with a conditional update, and the CHECK holds even against a bug.
CREATE TABLE slots (
    id TEXT PRIMARY KEY,
    port TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('exit', 'entry')),
    lane_type TEXT NOT NULL CHECK (lane_type IN ('general', 'fresh', 'empty')),
    starts_at TIMESTAMP NOT NULL,
    capacity INTEGER NOT NULL CHECK (capacity >= 0),
    booked INTEGER NOT NULL DEFAULT 0 CHECK (booked >= 0 AND booked <= capacity),
    -- Why a supervisor closed or reduced it (a lane down), and who.
    note TEXT,
    updated_by TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (port, direction, lane_type, starts_at)
);

CREATE TABLE bookings (
    -- Random (UUID v4): nobody can walk from one booking to the next.
    id TEXT PRIMARY KEY,
    -- Printed under the Code128 and read by staff: random too.
    number TEXT NOT NULL UNIQUE,
    -- NULL for a walk-up vehicle booked by staff at the waiting area.
    driver_id TEXT REFERENCES drivers (id),
    vehicle_id TEXT REFERENCES vehicles (id),
    plate TEXT NOT NULL,
    trailer_plate TEXT,
    slot_id TEXT NOT NULL REFERENCES slots (id),
    port TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('exit', 'entry')),
    lane_type TEXT NOT NULL CHECK (lane_type IN ('general', 'fresh', 'empty')),
    starts_at TIMESTAMP NOT NULL,
    trade_pass TEXT,
    cargo_category TEXT NOT NULL,
    cargo_weight_kg INTEGER NOT NULL CHECK (cargo_weight_kg >= 0),
    customs_ref TEXT,
    status TEXT NOT NULL CHECK (status IN ('booked', 'waiting', 'called', 'cleared', 'cancelled', 'no_show', 'bumped')),
    walk_up BOOLEAN NOT NULL DEFAULT FALSE,
    -- A booking may be moved once free of charge.
    moves INTEGER NOT NULL DEFAULT 0,
    -- Check-in at the waiting area; the queue is ordered by it (a late vehicle is re-queued).
    queued_at TIMESTAMP,
    called_at TIMESTAMP,
    report_by TIMESTAMP,
    cleared_at TIMESTAMP,
    crossing_id TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- One active booking per plate and per driver, whatever races.
CREATE UNIQUE INDEX bookings_active_plate ON bookings (plate) WHERE status IN ('booked', 'waiting', 'called');
CREATE UNIQUE INDEX bookings_active_driver ON bookings (driver_id) WHERE status IN ('booked', 'waiting', 'called');
CREATE INDEX bookings_slot ON bookings (slot_id, status);
CREATE INDEX bookings_queue ON bookings (port, direction, lane_type, status, queued_at);

-- A no-show counts one strike; enough recent strikes restrict booking until a supervisor lifts
-- them or they age out.
CREATE TABLE driver_strikes (
    id TEXT PRIMARY KEY,
    driver_id TEXT NOT NULL REFERENCES drivers (id),
    booking_id TEXT NOT NULL UNIQUE REFERENCES bookings (id),
    at TIMESTAMP NOT NULL,
    lifted_at TIMESTAMP,
    lifted_by TEXT
);
CREATE INDEX driver_strikes_driver ON driver_strikes (driver_id, at);
