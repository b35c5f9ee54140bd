-- A break-glass window is opened by the read path for the length of the role policy's
-- breakGlass.maxMinutes, which the settings check keeps within 1 to 1440 minutes, starting now. The
-- database took any window from the reader role: a wrong or hostile insert could open one for any
-- key id lasting a century (tried: accepted), turning one emergency access into a standing one that
-- the application's own check (expires_at > now()) would then honour.
--
-- Now a window lasts at most a day (plus five minutes for the application's clock, which computes
-- expires_at, running ahead of the database's, which sets opened_at), and the reader opens it now,
-- not in the past or the future. Rows already stored were opened by the application within these
-- bounds; the constraint checks them.
ALTER TABLE break_glass ADD CONSTRAINT break_glass_window_at_most_a_day
  CHECK (expires_at <= opened_at + interval '1 day 5 minutes');

ALTER POLICY break_glass_of_the_query ON break_glass
  WITH CHECK (patient_id = ANY ((SELECT string_to_array(current_setting('cc.patients', true), ','))::text[])
              AND opened_at BETWEEN now() - interval '5 minutes' AND now() + interval '5 minutes');
