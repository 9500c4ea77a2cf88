import type { PropsWithChildren } from 'react';
import './app.css';

// The shop. Its one minipay client is made in minipay.ts.
export default function App({ children }: PropsWithChildren) {
  return children;
}
