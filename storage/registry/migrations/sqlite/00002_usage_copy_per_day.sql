-- One usage copy per certificate version, format, purpose and China-time day
-- (加注: the same request on the same day returns the same copy; a different
-- purpose or a later day makes a new one). The unique index makes a second
-- copy for the same request impossible, whichever process races to insert it.
--
-- Rows made before this migration get the China-time day of their valid_from
-- (stored in UTC; China time is UTC+8 all year). Concurrent presses under the
-- old rule could record two or more copies for the same request: the one a
-- later press was given (latest valid_until) keeps the day and stays the
-- day's copy; the others keep a NULL day. They stay valid until their own end
-- and readable by id, but are never returned for a new press, and NULLs do not
-- collide in a unique index.

-- +goose Up
ALTER TABLE usage_copies ADD COLUMN day TEXT;

UPDATE usage_copies SET day = ranked.day
FROM (SELECT copy_id, date(valid_from, '+8 hours') AS day,
             row_number() OVER (PARTITION BY certificate_no, version, format, purpose, date(valid_from, '+8 hours')
                                ORDER BY julianday(valid_until) DESC, copy_id DESC) AS n
      FROM usage_copies) AS ranked
WHERE ranked.copy_id = usage_copies.copy_id AND ranked.n = 1;

CREATE UNIQUE INDEX usage_copies_one_per_day ON usage_copies(certificate_no, version, format, purpose, day);

-- +goose Down
DROP INDEX usage_copies_one_per_day;
ALTER TABLE usage_copies DROP COLUMN day;
