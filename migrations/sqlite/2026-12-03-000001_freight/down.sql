DROP TABLE driver_strikes;
DROP TABLE bookings;
DROP TABLE slots;
DROP TABLE vehicles;
DROP TABLE driver_sessions;
DROP TABLE driver_codes;
DROP TABLE drivers;
