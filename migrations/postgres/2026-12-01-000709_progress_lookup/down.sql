DROP TABLE progress_access;
