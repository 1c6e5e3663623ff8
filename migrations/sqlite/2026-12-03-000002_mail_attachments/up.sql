-- A booking's confirmation carries its slip as a PDF: kept with the message, rendered when the
-- booking was made, like the message itself.
ALTER TABLE mail_outbox ADD COLUMN attachment_name TEXT;
ALTER TABLE mail_outbox ADD COLUMN attachment BLOB;
