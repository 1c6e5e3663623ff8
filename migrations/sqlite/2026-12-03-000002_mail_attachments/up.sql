-- A booking's confirmation carries its slip as a PDF. The message names the file; the PDF is
-- made from the booking when the message leaves (outside any write transaction: rendering is CPU
-- work the single writer must not wait for), so nothing large is kept in the outbox.
ALTER TABLE mail_outbox ADD COLUMN attachment_name TEXT;
