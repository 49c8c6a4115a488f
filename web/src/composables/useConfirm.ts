import { reactive, readonly } from 'vue';

export interface ConfirmRequest {
  title: string;
  message: string;
  confirmLabel: string;
  /** Preview shown in the dialog, e.g. the message about to be deleted. */
  quote?: string;
  danger?: boolean;
  /** `data-testid` of the confirm button. */
  testid?: string;
}

/** An in-app confirmation dialog, awaited like `confirm()` but styled and accessible. */
const state = reactive({
  request: null as ConfirmRequest | null,
});
let resolver: ((ok: boolean) => void) | null = null;

function confirm(request: ConfirmRequest): Promise<boolean> {
  resolver?.(false);
  state.request = request;
  return new Promise((resolve) => {
    resolver = resolve;
  });
}

function settle(ok: boolean): void {
  state.request = null;
  const resolve = resolver;
  resolver = null;
  resolve?.(ok);
}

export function useConfirm() {
  return { state: readonly(state), confirm, settle };
}
