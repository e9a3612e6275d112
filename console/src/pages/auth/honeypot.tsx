import { Field } from '../../components/field';

/**
 * The honeypot of a public form: a field named `website`, moved off screen and out of the tab order,
 * so people leave it empty while bots that fill every input by name do not. The server answers a
 * submission that filled it like any other, and drops it. Its label tells anyone who meets it anyway
 * (a screen reader user browsing by form field) what to do.
 */
export function Honeypot({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  return (
    <div className="honeypot">
      <Field label="Leave this field empty" type="text" name="website" value={value} onChange={onChange} tabIndex={-1} autoComplete="off" />
    </div>
  );
}
