DROP TABLE free_services;
