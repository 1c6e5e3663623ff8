DROP TABLE driver_code_failures;
