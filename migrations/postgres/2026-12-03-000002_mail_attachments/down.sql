ALTER TABLE mail_outbox DROP COLUMN attachment_name;
