import { ref } from 'vue';
import { errorMessage } from '../lib/errors';

/**
 * A form's submit action: `busy` while it runs (so the button can show a
 * spinner and ignore repeats), `error` with a message for people when it
 * fails (the server's, or `fallback`).
 */
export function useFormAction() {
  const busy = ref(false);
  const error = ref('');

  /** Runs `action` unless one is running; resolves once it settled, with its error (if any) in `error`. */
  async function run(action: () => Promise<void>, fallback: string): Promise<void> {
    if (busy.value) return;
    busy.value = true;
    error.value = '';
    try {
      await action();
    } catch (err) {
      error.value = errorMessage(err, fallback);
    } finally {
      busy.value = false;
    }
  }

  return { busy, error, run };
}
