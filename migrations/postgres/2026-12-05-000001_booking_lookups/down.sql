DROP INDEX bookings_trade_pass;
DROP INDEX bookings_plate;
DROP INDEX bookings_driver;
