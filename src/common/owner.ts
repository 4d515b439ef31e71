/** An owned item's owner (R5.1): null library means the institution. */
export interface OwnerRef {
  libraryId: string | null;
}
